/**
 * A real HTTP server on 127.0.0.1 speaking Secrets Manager's JSON protocol (awsJson1_1:
 * `POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`), for the real AWS SDK client to
 * call. It knows the secrets it is given, and records every request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecret {
  /** SecretString; omit for a binary-only secret. */
  text?: string;
  /** Answer AccessDeniedException for this secret. */
  denied?: boolean;
}

export interface FakeSecretsManager {
  url: string;
  /** Every GetSecretValue request's body, in order. */
  requests: Array<{ target: string; body: Record<string, unknown> }>;
  /** Adds or replaces a secret (a rotation). */
  put(name: string, secret: FakeSecret): void;
  /**
   * Holds every answer until the returned function is called, so a test can see what a caller
   * does while its request is in flight. Requests are still recorded when they arrive.
   */
  hold(): () => void;
  /** The ARN the fake gives `name`: arn:aws:secretsmanager:us-east-1:123456789012:secret:<name>-AbCdEf. */
  arnOf(name: string): string;
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

export async function startFakeSecretsManager(
  secrets: Record<string, FakeSecret> = {},
): Promise<FakeSecretsManager> {
  const store = new Map(Object.entries(secrets));
  const requests: FakeSecretsManager['requests'] = [];
  let held: Array<() => void> | null = null;
  const arnOf = (name: string) =>
    `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
        string,
        unknown
      >;
      requests.push({ target, body });
      // The store is read when answering, so a put() while held is what the answer sees.
      if (held) held.push(() => respond(target, body));
      else respond(target, body);
    });

    function respond(target: string, body: Record<string, unknown>) {
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return answer(400, { __type: 'UnknownOperationException', message: `unknown ${target}` });
      }
      const id = String(body.SecretId ?? '');
      const name = [...store.keys()].find((n) => n === id || arnOf(n) === id);
      const secret = name === undefined ? undefined : store.get(name);
      if (name === undefined || secret === undefined) {
        return answer(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      if (secret.denied) {
        return answer(400, {
          __type: 'AccessDeniedException',
          Message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/ci/x is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id}`,
        });
      }
      answer(200, {
        ARN: arnOf(name),
        Name: name,
        VersionId: '11111111-2222-3333-4444-555555555555',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_767_225_600,
        ...(secret.text === undefined
          ? { SecretBinary: Buffer.from([0, 1, 2]).toString('base64') }
          : { SecretString: secret.text }),
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    put: (name, secret) => store.set(name, secret),
    hold: () => {
      const queue: Array<() => void> = [];
      held = queue;
      return () => {
        if (held === queue) held = null;
        for (const respond of queue.splice(0)) respond();
      };
    },
    arnOf,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
