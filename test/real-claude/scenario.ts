import { startRealSandbox, type RealSandbox, type RealSandboxOptions } from './helpers.js';

/**
 * Runs one scenario in a fresh sandbox. When it fails, the stand-in's request log, every
 * pane and the daemon's log are printed with the error: what a reader needs to tell a
 * daemon fault from a test fault.
 */
export async function scenario(options: RealSandboxOptions, body: (sandbox: RealSandbox) => Promise<void>): Promise<void> {
  const sandbox = await startRealSandbox(options);
  try {
    await body(sandbox);
  } catch (err) {
    process.stderr.write(`\n${sandbox.diagnostics()}\n\n`);
    throw err;
  } finally {
    await sandbox.close();
  }
}
