/**
 * A stand-in for GitHub's commit status API on 127.0.0.1, for the demo: it takes
 * `POST /repos/{owner}/{repo}/statuses/{sha}` as GitHub does (Bearer token, JSON body), answers
 * 201 with the status, and reports each one it receives. Anything else is a 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedStatus {
  repo: string;
  sha: string;
  state: string;
  context: string;
  description: string;
  targetUrl: string | null;
}

export interface StatusApi {
  readonly url: string;
  readonly received: readonly ReceivedStatus[];
  close(): Promise<void>;
}

const ROUTE = /^\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40,64})$/;

export async function startStatusApi(options: {
  /** The token the server must send (as `Authorization: Bearer` or `token`). */
  token: string;
  onStatus: (status: ReceivedStatus) => void;
}): Promise<StatusApi> {
  const received: ReceivedStatus[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const route = ROUTE.exec(req.url ?? '');
      if (req.method !== 'POST' || !route) return answer(404, { message: 'Not Found' });
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${options.token}` && auth !== `token ${options.token}`) {
        return answer(401, { message: 'Bad credentials' });
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return answer(400, { message: 'Problems parsing JSON' });
      }
      const status: ReceivedStatus = {
        repo: decodeURIComponent(route[1]!),
        sha: route[2]!,
        state: String(body.state ?? ''),
        context: String(body.context ?? 'default'),
        description: String(body.description ?? ''),
        targetUrl: typeof body.target_url === 'string' ? body.target_url : null,
      };
      received.push(status);
      options.onStatus(status);
      answer(201, { id: received.length, ...body });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
