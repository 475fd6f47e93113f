/**
 * `secret` with its last `n` characters replaced by different ones, so the
 * result is always a near miss. Appending a fixed character instead would hand
 * back the secret itself whenever it already ended in that character.
 */
export function tamper(secret: string, n = 1): string {
  const tail = secret.slice(-n);
  const replacement = tail === 'A'.repeat(n) ? 'B'.repeat(n) : 'A'.repeat(n);
  return secret.slice(0, -n) + replacement;
}
