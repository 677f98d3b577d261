/** A mistake the user can fix: printed as one line, the detail, and how to fix it, without a stack. */
export class UserError extends Error {
  readonly detail: string;
  readonly fix: string;

  constructor(message: string, detail: string, fix: string) {
    super(message);
    this.name = 'UserError';
    this.detail = detail;
    this.fix = fix;
  }

  format(): string {
    return [`error: ${this.message}`, this.detail && `  ${this.detail.replaceAll('\n', '\n  ')}`, `  fix: ${this.fix}`].filter(Boolean).join('\n');
  }
}
