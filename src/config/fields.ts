import type { ConsistencyInput } from './consistency.js';
import type { FieldPath } from './locate.js';
import { expandPath, type PathContext } from './paths.js';
import { schemasAt } from './schema.js';

/** The raw value at `path`: absent (undefined) when a container is missing, `broken` when one has the wrong type. */
export function rawAt(raw: unknown, path: FieldPath): { broken: false; value: unknown } | { broken: true } {
  let value = raw;
  for (const part of path) {
    if (value === undefined || value === null) return { broken: false, value: undefined };
    if (typeof part === 'number' && Array.isArray(value)) value = value[part] as unknown;
    else if (typeof part === 'string' && typeof value === 'object' && !Array.isArray(value)) value = (value as Record<string, unknown>)[part];
    else return { broken: true };
  }
  return { broken: false, value };
}

/** One field checked on its own against its schema (with its default): undefined when invalid. */
function fieldValue(raw: unknown, path: FieldPath): unknown {
  const at = rawAt(raw, path);
  const schema = schemasAt(path)[0];
  if (at.broken || !schema) return undefined;
  const parsed = schema.safeParse(at.value);
  return parsed.success ? parsed.data : undefined;
}

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const asNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const length = (raw: unknown, path: FieldPath): number => {
  const at = rawAt(raw, path);
  return !at.broken && Array.isArray(at.value) ? at.value.length : 0;
};

/**
 * Reads every field the cross-field rules need, each on its own, so the rules can run even
 * when other fields are wrong; expands every path field and reports the unset variables.
 */
export function readFields(raw: unknown, ctx: PathContext): { fields: ConsistencyInput; problems: { path: FieldPath; message: string }[] } {
  const problems: { path: FieldPath; message: string }[] = [];
  const path = (at: FieldPath): string | undefined => {
    const value = asString(fieldValue(raw, at));
    if (value === undefined) return undefined;
    const expanded = expandPath(value, ctx);
    if (expanded.ok) return expanded.path;
    problems.push({ path: at, message: `uses $${expanded.missing}, which is not set` });
    return undefined;
  };
  const accounts = Array.from({ length: length(raw, ['accounts']) }, (_, i) => ({
    name: asString(fieldValue(raw, ['accounts', i, 'name'])),
    home: path(['accounts', i, 'home']),
  }));
  const dedicated = Array.from({ length: length(raw, ['pool', 'dedicated']) }, (_, i) => {
    path(['pool', 'dedicated', i, 'project']);
    return { name: asString(fieldValue(raw, ['pool', 'dedicated', i, 'name'])) };
  });
  const listen = asString(fieldValue(raw, ['server', 'listen']));
  const [host, port] = listen === undefined ? [undefined, undefined] : splitListen(listen);
  const token = fieldValue(raw, ['server', 'token']);
  const fields: ConsistencyInput = {
    home: path(['home']),
    sharedDir: path(['sharedDir']),
    accounts,
    pool: {
      autonomous: {
        prefix: asString(fieldValue(raw, ['pool', 'autonomous', 'prefix'])),
        startIndex: asNumber(fieldValue(raw, ['pool', 'autonomous', 'startIndex'])),
        min: asNumber(fieldValue(raw, ['pool', 'autonomous', 'min'])),
        max: asNumber(fieldValue(raw, ['pool', 'autonomous', 'max'])),
      },
      dedicated,
    },
    server: { host, port, token: token === null ? null : asString(token) },
  };
  // Path fields no rule reads still have their variables checked.
  if (fieldValue(raw, ['stateDir']) !== null) path(['stateDir']);
  if (asString(fieldValue(raw, ['claude', 'command']))?.includes('/')) path(['claude', 'command']);
  path(['pool', 'autonomous', 'project']);
  return { fields, problems };
}

export function splitListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(listen.slice(at + 1))];
}
