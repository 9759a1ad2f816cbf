/**
 * Hides secret values in log lines. Every occurrence is replaced with `***`, also inside longer
 * text; a multi-line secret is hidden line by line too, since logs are handled a line at a time.
 */
export class SecretMasker {
  private readonly values = new Set<string>();
  private ordered: string[] = [];

  add(value: string): void {
    const candidates = [value, ...value.split(/\r?\n/)].map((v) => v.trim());
    for (const candidate of candidates) {
      if (candidate.length > 0) this.values.add(candidate);
    }
    // Longest first: a secret that contains another must be hidden whole.
    this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let masked = text;
    for (const value of this.ordered) {
      if (masked.includes(value)) masked = masked.split(value).join('***');
    }
    return masked;
  }
}
