// Talking to the API: one POST per operation, and the caller's token (kept for this tab).

export const ENDPOINT = "/graphql";
const TOKEN_KEY = "ordergraph.token";

/** A failed call: a list of {code, message, field, correlationId}. */
export class ApiError extends Error {
  constructor(problems) {
    super(problems.map((p) => `${p.code}: ${p.message}`).join("; "));
    this.problems = problems;
  }
}

export function problemsOf(errors) {
  return errors.map((error) => {
    const extensions = (error && error.extensions) || {};
    return {
      code: extensions.code || "ERROR",
      message: (error && error.message) || "Unknown error",
      field: extensions.field,
      correlationId: extensions.correlationId,
    };
  });
}

export function problemsFrom(error) {
  if (error instanceof ApiError) return error.problems;
  return [{ code: "CLIENT_ERROR", message: String(error && error.message ? error.message : error) }];
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authorization() {
  return token() ? `Bearer ${token()}` : null;
}

/** POST one operation; resolves to {data, extensions}, rejects with an ApiError. */
export async function graphql(query, variables) {
  const headers = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  const auth = authorization();
  if (auth) headers.authorization = auth;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError([{ code: "NETWORK_ERROR", message: "The service cannot be reached." }]);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    throw new ApiError(problemsOf(body.errors));
  }
  if (!response.ok || !body || !body.data) {
    const message = response.statusText || "The service gave an unexpected answer.";
    throw new ApiError([{ code: `HTTP_${response.status}`, message }]);
  }
  return { data: body.data, extensions: body.extensions || {} };
}

/** How far order_views had got when a read ran (given minPosition), else 0. */
export function reachedPosition(extensions) {
  const projections = (extensions.freshness && extensions.freshness.projections) || {};
  const views = projections.order_views;
  return views ? Number(views.reached) || 0 : 0;
}

/** A new command id; a retry of the same request reuses it, so it is never done twice. */
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Remembers a command's id while its payload stays the same (a retry after a lost answer). */
export class Attempt {
  constructor() {
    this.payload = null;
    this.commandId = null;
  }

  idFor(input) {
    const payload = JSON.stringify(input);
    if (payload !== this.payload) {
      this.payload = payload;
      this.commandId = randomId();
    }
    return this.commandId;
  }

  done() {
    this.payload = null;
    this.commandId = null;
  }
}
