// Sign-in. In production, WeChat's QR sign-in (the website app): the button opens
// WeChat's page, which returns here with `code` and `state` for `loginWithWebsite`;
// the server lets only admins and creators in. In development, a console-audience token
// pasted from `zhiku token --user N`, checked against the API before the session
// starts; a learner's token is refused with its own message.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useClient, useQuery } from "urql";
import { ConsoleViewerDocument, LoginWithWebsiteDocument, WebsiteAuthorizeUrlDocument } from "../gql/graphql";
import { CONSOLE_AUDIENCE, lastEndReason, signIn, tokenAudience } from "../lib/session";
import { useT, type TextKey } from "../lib/i18n";
import { ErrorText, Field, type ApiUserError } from "../ui/kit";

/** Where WeChat returns to: the console's own first page. */
const RETURN_TO = `${location.origin}/console/`;

export function SignIn() {
  const t = useT();
  const client = useClient();
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<TextKey | null>(null);
  const [qrError, setQrError] = useState<ApiUserError | null>(null);
  const [busy, setBusy] = useState(false);
  const ended = lastEndReason();
  const [qr] = useQuery({ query: WebsiteAuthorizeUrlDocument, variables: { redirectUri: RETURN_TO } });
  const qrUrl = qr.data?.websiteAuthorizeUrl;
  useWechatReturn(setQrError);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const pasted = token.trim();
    if (!pasted) return setProblem("signIn.required");
    if (tokenAudience(pasted) !== CONSOLE_AUDIENCE) return setProblem("signIn.notConsole");
    setBusy(true);
    const result = await client
      .query(ConsoleViewerDocument, {}, {
        requestPolicy: "network-only",
        fetchOptions: { headers: { authorization: `Bearer ${pasted}` } },
      })
      .toPromise();
    setBusy(false);
    const viewer = result.data?.viewer;
    if (!viewer) return setProblem("signIn.rejected");
    if (viewer.role === "LEARNER") return setProblem("signIn.notStaff");
    signIn({
      accessToken: pasted,
      expiresAt: null,
      refreshToken: null,
      viewer: { id: viewer.id, nickname: viewer.nickname, role: viewer.role, creatorId: viewer.creator?.id ?? null },
    });
  }

  return (
    <main className="sign-in">
      <div className="card">
        <h1>{t("signIn.title")}</h1>
        {ended && <p className="notice">{t(ended === "expired" ? "signIn.expired" : "signIn.signedOut")}</p>}
        {(qrUrl || qrError) && (
          <div className="qr">
            {qrUrl && (
              <a className="button primary" href={qrUrl}>
                {t("signIn.wechat")}
              </a>
            )}
            {qrError && <ErrorText error={qrError} />}
          </div>
        )}
        <form onSubmit={submit} className="token-form">
          <Field label={t("signIn.token")} error={problem ? t(problem) : undefined} wide>
            <textarea
              name="token"
              rows={5}
              value={token}
              onChange={(event) => setToken(event.target.value)}
              spellCheck={false}
              autoComplete="off"
            />
          </Field>
          <p className="muted">{t("signIn.tokenHelp")}</p>
          <button type="submit" className="primary" disabled={busy}>
            {t("signIn.submit")}
          </button>
        </form>
      </div>
    </main>
  );
}

/** When WeChat sent the browser back with `code` and `state`, signs in with them once
 * and takes them out of the address (a reload must not replay a spent code). */
function useWechatReturn(onRefused: (error: ApiUserError) => void) {
  const client = useClient();
  const started = useRef(false);
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const code = params.get("code");
    const state = params.get("state");
    if (!code || !state || started.current) return;
    started.current = true;
    history.replaceState(null, "", location.pathname);
    client
      .mutation(LoginWithWebsiteDocument, { code, state })
      .toPromise()
      .then((result) => {
        const payload = result.data?.loginWithWebsite;
        const viewer = payload?.viewer;
        if (payload?.accessToken && viewer) {
          signIn({
            accessToken: payload.accessToken,
            refreshToken: payload.refreshToken ?? null,
            expiresAt: payload.accessTokenExpiresAt ? Date.parse(payload.accessTokenExpiresAt) : null,
            viewer: { id: viewer.id, nickname: viewer.nickname, role: viewer.role, creatorId: viewer.creator?.id ?? null },
          });
        } else {
          onRefused(payload?.userErrors[0] ?? { message: result.error?.message ?? "" });
        }
      });
  }, [client, onRefused]);
}
