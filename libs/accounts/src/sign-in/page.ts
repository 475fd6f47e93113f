/** The server-rendered sign-in page of an interaction: no script, no external asset. */

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface PageError {
  detail: string;
  /** The problem code, for people who report it and for tests. */
  code?: string;
}

const errorLine = (error?: PageError): string =>
  error ? `<p class="error" role="alert"${error.code ? ` data-code="${escape(error.code)}"` : ''}>${escape(error.detail)}${error.code ? ` <code>${escape(error.code)}</code>` : ''}</p>` : '';

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}details{margin-top:1.5rem}
.sso{display:block;margin-top:1rem;padding:.5rem 1rem;border:1px solid #888;text-align:center;color:inherit;text-decoration:none}
</style></head>
<body><main>
${body}
</main></body></html>`;
}

export interface SsoChoice {
  /** Where the button leads: `/sign-in/<uid>/sso/<connection id>`. */
  href: string;
  name: string;
}

export function signInPage(options: { action: string; error?: PageError; username?: string; sso?: SsoChoice[] }): string {
  const sso = (options.sso ?? []).map((c) => `<a class="sso" href="${escape(c.href)}">Sign in with ${escape(c.name)}</a>`).join('\n');
  return layout(
    'Sign in to Signet',
    `<h1>Sign in to Signet</h1>
${errorLine(options.error)}
${sso}
<form method="post" action="${escape(options.action)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus value="${escape(options.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<details><summary>First account? Use the sign-up code</summary>
<p>The code was printed beside the bootstrap API key at the first start. The username and password above become the owner account.</p>
<label for="signup_code">Sign-up code</label>
<input id="signup_code" name="signup_code" autocomplete="off">
</details>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** The second step after a right password, for an account with TOTP on. */
export function totpPage(options: { action: string; error?: PageError }): string {
  return layout(
    'Two-factor code – Signet',
    `<h1>Two-factor code</h1>
${errorLine(options.error)}
<form method="post" action="${escape(options.action)}">
<input type="hidden" name="step" value="totp">
<label for="totp_code">Code from your authenticator app</label>
<input id="totp_code" name="totp_code" inputmode="numeric" pattern="[0-9]*" autocomplete="one-time-code" autofocus>
<details><summary>Lost your device? Use a recovery code</summary>
<label for="recovery_code">Recovery code (each works once)</label>
<input id="recovery_code" name="recovery_code" autocomplete="off">
</details>
<button type="submit">Continue</button>
</form>`,
  );
}

/** A page that only says what went wrong (an SSO sign-in refused, an expired sign-in). */
export function messagePage(title: string, error: PageError, again = 'Start again (<code>signet login</code>).'): string {
  return layout(title, `<h1>${escape(title)}</h1>\n${errorLine(error)}\n<p>${again}</p>`);
}
