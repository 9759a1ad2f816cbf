/**
 * A real HTTP server on 127.0.0.1 standing in for a host's API: it records every request and
 * answers from a script (one answer per request, the last one repeating).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  /** Replace the script; answers are used in order, the last one for every request after. */
  answer(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export async function startHttpRecorder(
  handler?: (request: RecordedRequest) => ScriptedAnswer | undefined,
): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  let script: ScriptedAnswer[] = [{ status: 201, body: {} }];
  let served = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const answer = handler?.(recorded) ?? script[Math.min(served, script.length - 1)]!;
      served++;
      const body =
        answer.body === undefined
          ? ''
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(...answers) {
      script = answers;
      served = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
