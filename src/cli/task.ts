import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { openQueueFor } from './queue-for.js';
import { TASK_STATES, taskJson, type Task, type TaskQueue, type TaskState } from '../store/task-queue.js';
import { checkNewTask, MAX_PROMPT_LENGTH, parseDuration, taskRulesOf } from '../tasks/new-task.js';
import { describeError } from '../errors.js';
import type { Config } from '../config/types.js';
import { configFor } from './shared.js';
import { describeTask, listing } from './task-text.js';

/** How often `task wait` reads the queue. */
const WAIT_POLL_MS = 250;

/** A refusal: said on stderr with the command's name, and the exit code set. */
class TaskCommandError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** `claude-failover task add`: how a refusal names the command. */
function commandName(command: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let node: CommandUnknownOpts | null = command; node; node = node.parent) names.unshift(node.name());
  return names.join(' ');
}

/**
 * Runs `work` on the task queue (the fleet's with store.shared, else the state dir's),
 * refusing clearly when no daemon ever ran with this config. A refusal is one line on stderr.
 */
async function withQueue(command: CommandUnknownOpts, work: (queue: TaskQueue, config: Config) => Promise<void>, refusedExit = 1): Promise<void> {
  const name = commandName(command);
  const config = configFor(command);
  let close: (() => Promise<void>) | null = null;
  try {
    const opened = await openQueueFor(config);
    if (opened.queue === null) throw new TaskCommandError(opened.problem, refusedExit);
    close = opened.close;
    await work(opened.queue, config);
  } catch (err) {
    if (!(err instanceof TaskCommandError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } finally {
    await close?.();
  }
}

function taskId(text: string, exitCode = 1): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) === 0) throw new TaskCommandError(`a task id is a positive integer, not ${JSON.stringify(text)}`, exitCode);
  return Number(text);
}

async function existing(queue: TaskQueue, id: number, exitCode = 1): Promise<Task> {
  const task = await queue.get(id);
  if (!task) throw new TaskCommandError(`no task ${id}`, exitCode);
  return task;
}

/** The prompt from the argument, `--file`, or stdin (`-`, or no argument with stdin not a terminal). */
async function readPrompt(argument: string | undefined, file: string | undefined): Promise<string> {
  if (file !== undefined && argument !== undefined) throw new TaskCommandError('give the prompt once: as an argument or with --file, not both');
  if (file !== undefined) {
    try {
      return trimEnd(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new TaskCommandError(`cannot read --file ${file}: ${describeError(err)}`);
    }
  }
  if (argument !== undefined && argument !== '-') return argument;
  if (argument === undefined && process.stdin.isTTY) throw new TaskCommandError('no prompt: give it as an argument, with --file FILE, or on stdin (PROMPT "-")');
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin as AsyncIterable<string>) {
    text += chunk;
    if (text.length > MAX_PROMPT_LENGTH * 2) throw new TaskCommandError(`the prompt on stdin is over ${MAX_PROMPT_LENGTH} characters`);
  }
  return trimEnd(text);
}

/** A file or stdin ends with a newline the writer did not mean as part of the prompt. */
const trimEnd = (text: string): string => text.replace(/\s+$/, '');

const newline = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

function addCommand(): CommandUnknownOpts {
  return new Command('add')
    .summary('queue a prompt; prints its id')
    .description(
      'Queues a task: a prompt for the next idle session that may take it, highest priority first, then oldest. The prompt is the argument, the content of --file FILE, or stdin when the argument is "-" or absent and stdin is not a terminal.\n\n' +
        'Without --session any autonomous session may take it; with --session NAME only that dedicated session of the config (in a fleet, with store.shared: a session of any host, and --cwd need exist only on the hosts that may run it). A task starts a new conversation (--fresh, the default) in its --cwd (a directory, the session\'s own without it), or goes on with the session\'s conversation (--continue). A session that dies mid-task costs an attempt: the task runs again up to --retries more times. Past --timeout the task is interrupted and fails.\n\n' +
        'Prints the new task\'s id alone on stdout (--json: `{"id": N}`). A bad value is named on stderr with exit 1, and nothing is queued.',
    )
    .argument('[prompt]', 'the prompt; "-" reads it from stdin')
    .option('--file <file>', 'read the prompt from FILE')
    .option('--cwd <dir>', 'the directory the task runs in')
    .option('--session <name>', 'the dedicated session that must run it')
    .option('--priority <n>', 'an integer; higher runs first (default 0)')
    .option('--timeout <duration>', 'fail the task after this long, like 30s, 10m, 2h, 1h30m')
    .option('--retries <n>', 'attempts after the first when its session dies mid-task (default 1)')
    .option('--fresh', 'start a new conversation (the default)')
    .option('--continue', "go on with the session's conversation")
    .option('--json', 'print {"id": N}')
    .action(async (prompt, opts, command) => {
      await withQueue(command, async (queue, config) => {
        if (opts.fresh && opts.continue) throw new TaskCommandError('--fresh and --continue exclude each other: give one');
        const text = await readPrompt(prompt, opts.file);
        const checked = checkNewTask(
          { prompt: text, cwd: opts.cwd, session: opts.session, priority: opts.priority, timeout: opts.timeout, retries: opts.retries, mode: opts.continue ? 'continue' : 'fresh' },
          { ...taskRulesOf(config), baseDir: process.cwd(), naming: 'cli' },
        );
        if (!checked.ok) throw new TaskCommandError(checked.error);
        const task = await queue.add(checked.task);
        process.stdout.write(opts.json ? `${JSON.stringify({ id: task.id })}\n` : `${task.id}\n`);
      });
    });
}

function listCommand(): CommandUnknownOpts {
  return new Command('list')
    .summary('the queued, running and finished tasks')
    .description('Lists the tasks, oldest first: id, state, priority, session, attempts, when queued and the prompt\'s first line; in a fleet, a line under the table for each queued task some hosts found they cannot run (its cwd or its session is not theirs). --state keeps one state (queued, running, done, failed or cancelled); --json prints an array of task objects.')
    .option('--json', 'print a JSON array of tasks')
    .option('--state <state>', `only tasks in this state: ${TASK_STATES.join(', ')}`)
    .action(async (opts, command) => {
      await withQueue(command, async (queue) => {
        const state = opts.state;
        if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state)) throw new TaskCommandError(`--state must be one of ${TASK_STATES.join(', ')}, not ${JSON.stringify(state)}`);
        const tasks = await queue.list(state === undefined ? {} : { state: state as TaskState });
        if (opts.json) process.stdout.write(JSON.stringify(tasks.map(taskJson), null, 2) + '\n');
        else process.stdout.write(tasks.length === 0 ? `no ${state ?? ''}${state ? ' ' : ''}tasks\n` : listing(tasks) + '\n');
      });
    });
}

function showCommand(): CommandUnknownOpts {
  return new Command('show')
    .summary('one task in full')
    .description('Shows one task in full: its prompt, state, cwd, target, mode, priority, timeout, attempts, the session and conversation it ran in, when it was queued, started and finished, the fleet hosts that cannot run it while it waits, and its result or error. --json prints the task object.')
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON')
    .action(async (id, opts, command) => {
      await withQueue(command, async (queue) => {
        const task = await existing(queue, taskId(id));
        process.stdout.write(opts.json ? JSON.stringify(taskJson(task), null, 2) + '\n' : describeTask(task) + '\n');
      });
    });
}

/** A command that moves one task from some states to another (`cancel`, `retry`): the same checks, the same report. */
function transitionCommand(spec: {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly from: readonly TaskState[];
  readonly to: TaskState;
  readonly verb: string;
  readonly done: string;
  readonly apply: (queue: TaskQueue, id: number) => Promise<Task | null>;
}): CommandUnknownOpts {
  return new Command(spec.name)
    .summary(spec.summary)
    .description(spec.description)
    .argument('<id>', 'the task id')
    .action(async (id, _opts, command) => {
      await withQueue(command, async (queue) => {
        const before = await existing(queue, taskId(id));
        if (!spec.from.includes(before.state)) throw new TaskCommandError(`task ${before.id} is ${before.state}: only a ${spec.from.join(' or ')} task can be ${spec.verb}`);
        const after = await spec.apply(queue, before.id);
        if (after?.state !== spec.to) throw new TaskCommandError(`task ${before.id} became ${after?.state ?? 'gone'} before it could be ${spec.verb}`);
        process.stdout.write(`task ${before.id} ${spec.done} (it was ${before.state})\n`);
      });
    });
}

function cancelCommand(): CommandUnknownOpts {
  return transitionCommand({
    name: 'cancel',
    summary: 'cancel a queued or running task',
    description: 'Cancels a queued or running task: it is not given to a session again, and a running one is interrupted. A task already done, failed or cancelled is left as it is, with exit 1.',
    from: ['queued', 'running'],
    to: 'cancelled',
    verb: 'cancelled',
    done: 'cancelled',
    apply: (queue, id) => queue.cancel(id),
  });
}

function retryCommand(): CommandUnknownOpts {
  return transitionCommand({
    name: 'retry',
    summary: 'queue a failed or cancelled task again',
    description: 'Queues a failed or cancelled task again, its attempts counted from zero and its last error cleared. A task queued, running or done is left as it is, with exit 1.',
    from: ['failed', 'cancelled'],
    to: 'queued',
    verb: 'retried',
    done: 'queued again',
    apply: (queue, id) => queue.retry(id),
  });
}

function waitCommand(): CommandUnknownOpts {
  return new Command('wait')
    .summary('wait for a task to finish; prints its result')
    .description(
      'Waits until the task is done, failed or cancelled, reading the queue a few times a second. Done: prints its result and exits 0. Failed or cancelled: says so (with the error) on stderr and exits 1. Still unfinished after --timeout, or no such task: exit 2.',
    )
    .argument('<id>', 'the task id')
    .option('--timeout <duration>', 'give up after this long, like 30s, 10m, 2h (default: wait as long as it takes)')
    .action(async (id, opts, command) => {
      await withQueue(
        command,
        async (queue) => {
          const limit = opts.timeout === undefined ? null : parseDuration(opts.timeout);
          if (limit === null && opts.timeout !== undefined) throw new TaskCommandError(`--timeout must be a duration like 30s, 10m, 2h or 1h30m, not ${JSON.stringify(opts.timeout)}`, 2);
          const deadline = limit === null ? null : Date.now() + limit;
          const wanted = taskId(id, 2);
          for (;;) {
            const task = await existing(queue, wanted, 2);
            if (task.state === 'done') {
              process.stdout.write(newline(task.result ?? ''));
              return;
            }
            if (task.state === 'failed' || task.state === 'cancelled') throw new TaskCommandError(`task ${task.id} ${task.state}${task.error === null ? '' : `: ${task.error}`}`, 1);
            const left = deadline === null ? WAIT_POLL_MS : deadline - Date.now();
            if (left <= 0) throw new TaskCommandError(`task ${task.id} is still ${task.state} after ${opts.timeout ?? ''}`, 2);
            await sleep(Math.min(WAIT_POLL_MS, left));
          }
        },
        2,
      );
    });
}

export function taskCommand(): CommandUnknownOpts {
  const task = new Command('task')
    .summary('queue prompts for idle sessions and follow them')
    .description(
      'The task queue: prompts the daemon gives to idle pool sessions, one at a time each, highest priority first, that survive limits, swaps and restarts. `task add` queues one and prints its id; `list`, `show`, `cancel`, `retry` and `wait` follow and steer them.\n\n' +
        'These commands read and write the queue in the state dir directly, so they work whether or not the daemon runs; the daemon must have run once with this config to make it. With store.shared the queue is the fleet\'s, in the shared database (prepared by the command itself: no daemon need have run).',
    );
  for (const sub of [addCommand(), listCommand(), showCommand(), cancelCommand(), retryCommand(), waitCommand()]) task.addCommand(sub);
  return task;
}
