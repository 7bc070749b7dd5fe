/** A JSON value as stored in JSONB columns and carried by JSON scalars. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
