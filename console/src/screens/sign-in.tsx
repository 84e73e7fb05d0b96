// Sign-in: in development a console-audience token pasted from `zhiku token --user N`.
// The token is checked against the API (`viewer`) before the session starts, and a
// learner's token is refused with its own message: the console is for staff.
import { useState, type FormEvent } from "react";
import { useClient } from "urql";
import { ConsoleViewerDocument } from "../gql/graphql";
import { CONSOLE_AUDIENCE, lastEndReason, signIn, tokenAudience } from "../lib/session";
import { useT, type TextKey } from "../lib/i18n";
import { Field } from "../ui/kit";

export function SignIn() {
  const t = useT();
  const client = useClient();
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<TextKey | null>(null);
  const [busy, setBusy] = useState(false);
  const ended = lastEndReason();

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
      <form onSubmit={submit} className="card">
        <h1>{t("signIn.title")}</h1>
        {ended && <p className="notice">{t(ended === "expired" ? "signIn.expired" : "signIn.signedOut")}</p>}
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
    </main>
  );
}
