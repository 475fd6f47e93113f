/** The server-rendered sign-in page of an interaction: no script, no external asset. */

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function signInPage(options: { action: string; error?: string; username?: string }): string {
  const error = options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Signet</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}details{margin-top:1.5rem}
</style></head>
<body><main>
<h1>Sign in to Signet</h1>
${error}
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
</form>
</main></body></html>`;
}
