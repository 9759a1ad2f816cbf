/** Splits a text stream into lines; a very long line without a newline is passed on in pieces. */
const MAX_PENDING = 64 * 1024;

export class LineSplitter {
  private buffer = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      this.onLine(this.buffer.slice(0, newline).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_PENDING) {
      // Keep a tail so a marker at the end of the line is never cut in two.
      this.onLine(this.buffer.slice(0, MAX_PENDING - 256));
      this.buffer = this.buffer.slice(MAX_PENDING - 256);
    }
  }

  end(): void {
    if (this.buffer.length > 0) this.onLine(this.buffer);
    this.buffer = '';
  }
}

/** Resolves when `promise` does or after `ms`, whichever is first, leaving no timer behind. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
