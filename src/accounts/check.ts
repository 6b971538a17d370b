/** One line of `doctor`: what was checked, how it went, and how to fix it. */
export interface Check {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
  readonly fix: string | null;
}

/** How a group of checks reports each of its lines. */
export type AddCheck = (name: string, status: Check['status'], message: string, fix?: string | null) => void;
