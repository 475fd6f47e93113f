import { spawn } from 'node:child_process';

import open from 'open';

/**
 * Whether a browser can be opened here: not over SSH, and on Linux only with a display, unless
 * $BROWSER names one.
 */
export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['BROWSER']) return true;
  if (env['SSH_CONNECTION'] || env['SSH_TTY'] || env['SSH_CLIENT']) return false;
  if (process.platform === 'linux' && !env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return false;
  return true;
}

/** Opens the URL in $BROWSER or the system browser; never throws (the URL is printed anyway). */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  try {
    const browser = env['BROWSER'];
    const child = browser ? spawn(browser, [url], { stdio: 'ignore', detached: true }) : await open(url, { wait: false });
    const opened = await new Promise<boolean>((resolve) => {
      child.once('error', () => resolve(false));
      child.once('spawn', () => resolve(true));
    });
    child.unref();
    return opened;
  } catch {
    return false;
  }
}
