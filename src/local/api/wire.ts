/**
 * The awsJson1_1 wire format: JSON bodies, epoch-second timestamps, and errors as HTTP 400 with
 * `{"__type": "<Name>", "message": "…"}`, the shape every AWS SDK parses into a named exception.
 */

export class AwsError extends Error {
  constructor(
    /** The exception name the SDK turns into `error.name`. */
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const invalidInput = (message: string) => new AwsError('InvalidInputException', message);
export const notFound = (message: string) => new AwsError('ResourceNotFoundException', message);

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export function jsonResponse(body: unknown, requestId: string, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId },
  });
}

export function errorResponse(error: AwsError, requestId: string): Response {
  // Secrets Manager spells it `Message`; the SDKs read either.
  return new Response(
    JSON.stringify({ __type: error.type, message: error.message, Message: error.message }),
    {
      status: error.status,
      headers: {
        'content-type': JSON_CONTENT_TYPE,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': error.type,
      },
    },
  );
}

/** Epoch milliseconds → the wire's epoch seconds. */
export function seconds(ms: number): number;
export function seconds(ms: number | undefined): number | undefined;
export function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** Drops undefined members so the JSON carries only what is set. */
export function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

export type Input = Record<string, unknown>;

const nullMessage = (key: string) =>
  `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`;

/** Reads the fields of a request body, answering AWS's validation messages for bad ones. */
export class InputReader {
  constructor(
    private readonly input: Input,
    private readonly prefix = '',
  ) {}

  private path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  has(key: string): boolean {
    return this.input[key] !== undefined && this.input[key] !== null;
  }

  string(key: string): string {
    const value = this.optionalString(key);
    if (value === undefined) throw invalidInput(nullMessage(this.path(key)));
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalidInput(`${this.path(key)} must be a string`);
    return value;
  }

  optionalNumber(key: string, min: number, max: number): number | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw invalidInput(`${this.path(key)} must be a whole number`);
    }
    if (value < min || value > max) {
      throw invalidInput(
        `1 validation error detected: Value '${value}' at '${this.path(key)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw invalidInput(`${this.path(key)} must be true or false`);
    return value;
  }

  object(key: string): InputReader {
    const reader = this.optionalObject(key);
    if (!reader) throw invalidInput(nullMessage(this.path(key)));
    return reader;
  }

  optionalObject(key: string): InputReader | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw invalidInput(`${this.path(key)} must be an object`);
    }
    return new InputReader(value as Input, this.path(key));
  }

  optionalList(key: string): InputReader[] | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw invalidInput(`${this.path(key)} must be a list`);
    return value.map((item, index) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw invalidInput(`${this.path(key)}[${index}] must be an object`);
      }
      return new InputReader(item as Input, `${this.path(key)}.${index + 1}.member`);
    });
  }

  stringList(key: string, min: number, max: number): string[] {
    const value = this.input[key];
    if (value === undefined || value === null) throw invalidInput(nullMessage(this.path(key)));
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      throw invalidInput(`${this.path(key)} must be a list of strings`);
    }
    if (value.length < min || value.length > max) {
      throw invalidInput(
        `1 validation error detected: Value '[${value.join(', ')}]' at '${this.path(key)}' failed to satisfy constraint: Member must have length ${value.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
      );
    }
    return value as string[];
  }

  /** The raw value, for fingerprints and pass-through fields. */
  raw(key: string): unknown {
    return this.input[key];
  }
}
