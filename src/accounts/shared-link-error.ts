import { FailoverError, errnoCode } from '../errors.js';

/**
 * Why a shared link could not be made right. The caller (the switcher, `init`) chooses its
 * advice by cause: a permission or read-only fault needs the operator, a full disk needs
 * space, a loop or a file in the way needs the path fixed by hand; so does a shared dir that
 * is a symbolic link (it may have been planted to send every transcript elsewhere).
 */
export type SharedLinkFault = 'EACCES' | 'EROFS' | 'ENOSPC' | 'ELOOP' | 'NOT_A_DIRECTORY' | 'SHARED_DIR_IS_LINK' | 'FAILED';

export class SharedLinkError extends FailoverError {
  readonly fault: SharedLinkFault;
  /** The path the fault happened at. */
  readonly path: string;

  constructor(fault: SharedLinkFault, path: string, message: string, options?: { cause?: unknown }) {
    super(`SHARED_LINK_${fault}`, message, options);
    this.name = 'SharedLinkError';
    this.fault = fault;
    this.path = path;
  }
}

/** The fault an errno stands for; EPERM (an immutable dir, even for root) counts as a permission fault. */
export function faultOf(err: unknown): SharedLinkFault {
  switch (errnoCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'EACCES';
    case 'EROFS':
      return 'EROFS';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'ENOSPC';
    case 'ELOOP':
      return 'ELOOP';
    // EEXIST: mkdir -p met a file (or a dangling link) where a directory should be.
    case 'ENOTDIR':
    case 'EEXIST':
      return 'NOT_A_DIRECTORY';
    default:
      return 'FAILED';
  }
}

/** Wraps a system error as a typed fault naming `path` ("cannot link /x/projects: EPERM"). */
export function sharedLinkFault(path: string, what: string, err: unknown): SharedLinkError {
  if (err instanceof SharedLinkError) return err;
  const why = errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
  return new SharedLinkError(faultOf(err), path, `${what} ${path}: ${why}`, { cause: err });
}
