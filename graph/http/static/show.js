// Showing things: problems, announcements, and the one way the page writes a time.

export const $ = (selector) => document.querySelector(selector);

export function showProblems(container, problems) {
  container.replaceChildren();
  if (!problems || problems.length === 0) {
    container.hidden = true;
    return;
  }
  const list = document.createElement("ul");
  for (const problem of problems) {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = problem.code;
    item.append(code, " ", problem.message);
    if (problem.field) item.append(` (field: ${problem.field})`);
    if (problem.correlationId) item.append(` (request ${problem.correlationId})`);
    list.append(item);
  }
  container.append(list);
  container.hidden = false;
}

export function announce(text) {
  $("#announcer").textContent = text;
}

/** Every time on the page, the same way: "2026-12-07 14:03:21" (UTC, as the API gives it). */
export function formatTime(iso) {
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(iso || "");
  return match ? `${match[1]} ${match[2]}` : String(iso);
}

/** Put `iso` into a <time> element: the text formatted, the exact value in its attributes. */
export function setTime(element, iso, label) {
  element.dateTime = iso;
  element.textContent = formatTime(iso);
  element.title = label ? `${label} ${iso}` : iso;
}

/** The link to an order's detail. */
export function orderHref(id) {
  return `#order/${encodeURIComponent(id)}`;
}

export function flash(element) {
  element.classList.remove("changed");
  void element.offsetWidth; // restart the animation
  element.classList.add("changed");
}
