/** A row as better-sqlite3 returns it, and the typed reads of its columns: one set for every table. */
export type Row = Record<string, unknown>;

export const date = (v: unknown): Date | null => (typeof v === 'number' ? new Date(v) : null);
export const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
/** A text array column (PostgreSQL's text[], as the driver returns it); empty when absent. */
export const texts = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
