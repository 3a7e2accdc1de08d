/** The highest OrderGraph-Position a client has seen, sent back as OrderGraph-Min-Position. */
export interface Session {
  /** The highest position seen, as decimal text (positions go up to 2^63 - 1); null before any. */
  readonly position: string | null;
  /** Keep `value` (a header's text or an integer) when it is higher; anything else is ignored. */
  observe(value: string | number | null | undefined): void;
  /** The position as a JSON number (for `connection_init` or `extensions`), or null. */
  minPosition(): number | null;
}

export declare const POSITION_HEADER: "OrderGraph-Position";
export declare const MIN_POSITION_HEADER: "OrderGraph-Min-Position";

/** A new session, starting from `position` when given (say, one kept in sessionStorage). */
export declare function createSession(options?: { position?: string | number | null }): Session;
