// WeChat's website-app sign-in as the browser tests need it, on a local port: the
// `qrconnect` page (the person "scans" at once: it sends the browser back with a code),
// and the OAuth API the server calls. It refuses what WeChat refuses: an unknown appid
// or secret, another scope, a code used twice, a userinfo call without the token
// issued for that openid. Who scans is set by the test: POST /scanner with
// {"unionid": "..."} (the same person's unionid across the platform's apps).
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";

const APPID = process.env.ZHIKU_WEB_APPID;
const SECRET = process.env.ZHIKU_WEB_SECRET;
const port = Number(process.env.E2E_WECHAT_PORT ?? 18432);

let scanner = null;
const codes = new Map(); // code → unionid, spent on use
const tokens = new Map(); // access token → openid

function json(response, status, body) {
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(JSON.stringify(body));
}

createServer((request, response) => {
  const url = new URL(request.url, `http://127.0.0.1:${port}`);
  const q = (name) => url.searchParams.get(name) ?? "";
  if (request.method === "POST" && url.pathname === "/scanner") {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      scanner = JSON.parse(body).unionid ?? null;
      json(response, 200, { ok: true });
    });
    return;
  }
  if (url.pathname === "/healthz") return json(response, 200, { ok: true });
  if (url.pathname === "/connect/qrconnect") {
    if (q("appid") !== APPID || q("scope") !== "snsapi_login" || q("response_type") !== "code" || !scanner) {
      response.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      return response.end("参数错误");
    }
    const code = randomBytes(12).toString("hex");
    codes.set(code, scanner);
    const back = new URL(q("redirect_uri"));
    back.searchParams.set("code", code);
    back.searchParams.set("state", q("state"));
    response.writeHead(302, { location: back.toString() });
    return response.end();
  }
  if (url.pathname === "/sns/oauth2/access_token") {
    if (q("appid") !== APPID) return json(response, 200, { errcode: 40013, errmsg: "invalid appid" });
    if (q("secret") !== SECRET) return json(response, 200, { errcode: 40125, errmsg: "invalid appsecret" });
    if (q("grant_type") !== "authorization_code") return json(response, 200, { errcode: 40002, errmsg: "invalid grant_type" });
    const unionid = codes.get(q("code"));
    if (!unionid) return json(response, 200, { errcode: 40163, errmsg: "code been used" });
    codes.delete(q("code"));
    const openid = `web-${unionid}`;
    const token = randomBytes(12).toString("hex");
    tokens.set(token, openid);
    return json(response, 200, {
      access_token: token,
      expires_in: 7200,
      refresh_token: "r",
      openid,
      unionid,
      scope: "snsapi_login",
    });
  }
  if (url.pathname === "/sns/userinfo") {
    if (tokens.get(q("access_token")) !== q("openid")) return json(response, 200, { errcode: 40001, errmsg: "invalid credential" });
    return json(response, 200, { openid: q("openid"), nickname: "扫码用户", headimgurl: "", privilege: [] });
  }
  json(response, 404, { errcode: 404, errmsg: "not found" });
}).listen(port, "127.0.0.1");
