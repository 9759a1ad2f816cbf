/**
 * A small git smart-HTTP server for the demo: `git http-backend` (git's own CGI program) behind
 * node:http on 127.0.0.1, serving the bare repositories under one directory, read-only, with no
 * authentication. Enough for a build to clone a pushed commit the way it would from a git host.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; `<url>/<path>` serves `<root>/<path>`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The CGI answer's headers end at the first blank line; the rest is the body. */
function headEnd(buffer: Buffer): { at: number; length: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return null;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

function cgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

export async function startGitHttpServer(options: {
  /** The directory holding the bare repositories. */
  root: string;
  /** The environment git runs with (PATH, and no user configuration). */
  env: NodeJS.ProcessEnv;
}): Promise<GitHttpServer> {
  const running = new Set<ReturnType<typeof spawn>>();

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const child = spawn('git', ['http-backend'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: {
        ...options.env,
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(query >= 0 ? target.slice(0, query) : target),
        QUERY_STRING: query >= 0 ? target.slice(query + 1) : '',
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        // Protocol v2 when the client asks for it: it can then fetch one commit by its sha.
        ...(req.headers['git-protocol']
          ? { GIT_PROTOCOL: String(req.headers['git-protocol']) }
          : {}),
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
          : {}),
      },
    });
    running.add(child);
    child.stdin.on('error', () => {});
    req.pipe(child.stdin);
    let head: Buffer | null = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (head === null) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headEnd(head);
      if (!end) return;
      const { status, headers } = cgiHeaders(head.subarray(0, end.at).toString('latin1'));
      res.writeHead(status, headers);
      res.write(head.subarray(end.at + end.length));
      head = null;
    });
    child.on('close', () => {
      running.delete(child);
      if (head !== null && !res.headersSent) res.writeHead(502);
      res.end();
    });
  }

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const child of running) child.kill('SIGKILL');
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
