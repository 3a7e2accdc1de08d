// The session both clients share: the highest OrderGraph-Position the client has seen, sent
// back as OrderGraph-Min-Position so that every later read reflects at least what it wrote or
// read (docs/clients.md, "Read your own writes").
"use strict";

const POSITION_HEADER = "OrderGraph-Position";
const MIN_POSITION_HEADER = "OrderGraph-Min-Position";
const DIGITS = /^[0-9]{1,19}$/;

/** Whether decimal position `a` is above `b` (positions go up to 2^63 - 1: kept as text). */
function above(a, b) {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * A session: `position` is the highest position seen (a decimal string, or null before the
 * first answer that carried one); `observe(value)` keeps a higher one (a header's text or an
 * integer; anything else is ignored); `minPosition()` is the JSON number to put in a
 * WebSocket `connection_init` payload or in `extensions` (null when there is none, or when it
 * is beyond JavaScript's safe integers).
 */
function createSession(options = {}) {
  let position = null;
  const session = {
    get position() {
      return position;
    },
    observe(value) {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string") return;
      const trimmed = text.trim().replace(/^0+(?=[0-9])/, "");
      if (DIGITS.test(trimmed) && (position === null || above(trimmed, position))) {
        position = trimmed;
      }
    },
    minPosition() {
      const number = position === null ? NaN : Number(position);
      return Number.isSafeInteger(number) ? number : null;
    },
  };
  if (options.position != null) session.observe(options.position);
  return session;
}

module.exports = { MIN_POSITION_HEADER, POSITION_HEADER, createSession };
