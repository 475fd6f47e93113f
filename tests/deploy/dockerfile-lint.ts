/**
 * The Dockerfile rules Signet holds its images to. hadolint is the usual linter, but neither
 * Debian nor npm ships it (only prebuilt binaries from its own releases, which CI cannot fetch),
 * so the rules that matter here are checked directly: pinned base images, no downloads outside
 * npm, a non-root numeric user, a healthcheck, production dependencies only, an exec-form command.
 */

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined; comments and parser directives dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1).trim() : line;
    if (pending) pending.parts.push(body);
    else {
      const m = /^(\S+)\s*(.*)$/.exec(body);
      pending = { keyword: (m?.[1] ?? '').toUpperCase(), parts: [m?.[2] ?? ''], line: i + 1 };
    }
    if (!continued) {
      out.push({ keyword: pending.keyword, args: pending.parts.join(' ').trim(), line: pending.line });
      pending = undefined;
    }
  });
  return out;
}

interface Stage {
  name?: string;
  image: string;
  instructions: Instruction[];
}

function stages(instructions: Instruction[]): { globalArgs: Map<string, string>; stages: Stage[] } {
  const globalArgs = new Map<string, string>();
  const result: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      result.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (result.length === 0) {
      if (ins.keyword === 'ARG') {
        const [key, value = ''] = ins.args.split('=');
        globalArgs.set(key.trim(), value.trim());
      }
    } else result[result.length - 1].instructions.push(ins);
  }
  return { globalArgs, stages: result };
}

const expand = (s: string, args: Map<string, string>): string => s.replace(/\$\{?(\w+)\}?/g, (_, name: string) => args.get(name) ?? '');

/** Every rule the Dockerfile breaks, as `line N: what`; empty when it complies. */
export function lintDockerfile(text: string): string[] {
  const problems: string[] = [];
  const all = parseDockerfile(text);
  const { globalArgs, stages: list } = stages(all);
  if (list.length === 0) return ['no FROM'];
  const stageNames = new Set(list.map((s) => s.name).filter((n): n is string => n !== undefined));
  for (const ins of all.filter((i) => i.keyword === 'FROM')) {
    const image = expand(ins.args.replace(/--platform=\S+\s+/, '').split(/\s+/)[0], globalArgs);
    if (stageNames.has(image)) continue;
    const tag = /:([^/:@]+)$/.exec(image.split('@')[0])?.[1];
    if (!image.includes('@sha256:') && (!tag || tag === 'latest')) problems.push(`line ${ins.line}: base image '${image}' needs a pinned tag, not latest`);
  }
  for (const ins of all) {
    if (ins.keyword === 'ADD' && /(https?|git|ftp):\/\/|git@/.test(ins.args)) problems.push(`line ${ins.line}: ADD of a URL (downloads outside npm)`);
    if (ins.keyword === 'RUN' && /\b(curl|wget|apt-get|apk|git clone)\b/.test(ins.args)) problems.push(`line ${ins.line}: RUN downloads outside npm`);
    if (ins.keyword === 'RUN' && /\bnpm (install|i)\b/.test(ins.args)) problems.push(`line ${ins.line}: npm install instead of npm ci (the lockfile decides)`);
  }
  const final = list[list.length - 1];
  const user = final.instructions.filter((i) => i.keyword === 'USER').pop();
  if (!user) problems.push('final stage: no USER (runs as root)');
  else if (!/^[1-9]\d*(:\d+)?$/.test(user.args)) problems.push(`line ${user.line}: USER '${user.args}' must be a numeric non-root uid (runAsNonRoot checks it)`);
  const health = final.instructions.filter((i) => i.keyword === 'HEALTHCHECK').pop();
  if (!health || /^NONE\b/i.test(health.args)) problems.push('final stage: no HEALTHCHECK');
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT').pop();
  if (!cmd || !cmd.args.startsWith('[')) problems.push('final stage: CMD/ENTRYPOINT must be exec form (JSON), so the server is PID 1 and gets SIGTERM');
  // node_modules of the final image come from a stage that installed production dependencies only.
  const modules = final.instructions.find((i) => i.keyword === 'COPY' && /node_modules/.test(i.args));
  const from = modules ? /--from=(\S+)/.exec(modules.args)?.[1] : undefined;
  const source = list.find((s) => s.name === from);
  if (!source || !source.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))) {
    problems.push('final stage: node_modules must come from a stage that ran `npm ci --omit=dev`');
  }
  return problems;
}
