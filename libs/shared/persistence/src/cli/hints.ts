/**
 * What to run when DATABASE_URL names a database the server does not have (PostgreSQL's
 * `invalid_catalog_name`, 3D000): the same server and user, connected to `postgres`. No password shown.
 */
export function missingDatabaseHint(err: unknown, databaseUrl: string | undefined): string | null {
  if (!databaseUrl || typeof err !== 'object' || err === null || !('code' in err) || err.code !== '3D000') return null;
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.password = '';
  url.pathname = '/postgres';
  url.search = '';
  return [
    `the database "${name}" does not exist on ${url.host}; create it, then run migrate again:`,
    `  psql '${url.toString()}' -c 'CREATE DATABASE "${name.replaceAll('"', '""')}"'`,
    `  (or: createdb -h ${url.hostname} -p ${url.port || '5432'} -U ${decodeURIComponent(url.username) || 'postgres'} '${name}')`,
  ].join('\n');
}
