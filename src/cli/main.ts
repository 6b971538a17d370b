#!/usr/bin/env node
// The entry point. Hooks and the statusline run on every Claude Code event and must start
// fast: they load only the relay, never the rest of the CLI (`--help` goes to commander).
const first = process.argv[2];
if ((first === 'hook' || first === 'statusline') && !process.argv.includes('--help') && !process.argv.includes('-h')) {
  const relay = await import('../relay/relay.js');
  await (first === 'hook' ? relay.runHookRelay(process.argv.slice(3)) : relay.runStatuslineRelay(process.argv.slice(3)));
} else {
  const { runProgram } = await import('./program.js');
  await runProgram(process.argv);
}
