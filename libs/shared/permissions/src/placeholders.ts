import { topicFilterProblem } from './topic';

/** Placeholders a permission template may use, filled from the credential. */
export const PLACEHOLDERS = ['user_id', 'org_id', 'client_id'] as const;
/** Those of a client certificate's templates: `{user_id}` is the identity its org's rule picks, `{cert_cn}` its common name. */
export const CERTIFICATE_PLACEHOLDERS = [...PLACEHOLDERS, 'cert_cn'] as const;
export type Placeholder = (typeof CERTIFICATE_PLACEHOLDERS)[number];
export type PlaceholderValues = Partial<Record<Placeholder, string>>;

const PLACEHOLDER_RE = /\{([a-z_]+)\}/g;

/**
 * Checks a permission template such as `users/{user_id}/#`: only known
 * placeholders, each filling a whole level, and a valid filter once filled.
 */
export function templateProblem(template: string, allowed: readonly string[] = PLACEHOLDERS): string | null {
  let unknown: string | null = null;
  let partial = false;
  const filled = template.replace(PLACEHOLDER_RE, (match, name: string, offset: number) => {
    if (!allowed.includes(name)) unknown = name;
    const before = offset === 0 || template[offset - 1] === '/';
    const end = offset + match.length;
    const after = end === template.length || template[end] === '/';
    if (!before || !after) partial = true;
    return 'x';
  });
  if (unknown) return `unknown placeholder {${unknown}}`;
  if (partial) return 'a placeholder must fill a whole topic level';
  if (filled.includes('{') || filled.includes('}')) return 'unbalanced placeholder braces';
  const problem = topicFilterProblem(filled);
  return problem ? `invalid topic filter (${problem})` : null;
}

/**
 * A value can fill a level only if it cannot widen the filter: no level
 * separator, no wildcard, no leading `$`, not empty.
 */
export function isSafeLevelValue(value: string | undefined): value is string {
  return (
    value !== undefined &&
    value.length > 0 &&
    !value.startsWith('$') &&
    // eslint-disable-next-line no-control-regex
    !/[/+#\u0000]/.test(value)
  );
}

/**
 * Fills a template's placeholders. Returns `null` (the rule is dropped,
 * failing closed) when a value it needs is missing or could widen it.
 */
export function expandTemplate(template: string, values: PlaceholderValues): string | null {
  let ok = true;
  const out = template.replace(PLACEHOLDER_RE, (_m, name: Placeholder) => {
    const v = values[name];
    if (!isSafeLevelValue(v)) {
      ok = false;
      return '';
    }
    return v;
  });
  return ok ? out : null;
}
