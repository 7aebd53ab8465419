/**
 * humanDuration renders an elapsed time like go-units HumanDuration, which
 * docker uses for CREATED columns ("2 hours", "About an hour", "3 weeks").
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  // Go's Duration.Round(time.Hour) rounds halves away from zero.
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/**
 * createdSince is docker's CREATED cell: "2 hours ago", or "N/A" when the
 * image has no creation time.
 */
export function createdSince(created: string | undefined, now: number = Date.now()): string {
  const t = parseTime(created);
  if (t === undefined) return "N/A";
  return `${humanDuration(now - t)} ago`;
}

/** parseTime reads an RFC 3339 timestamp to epoch ms; Go's zero time and junk read as undefined. */
export function parseTime(created: string | undefined): number | undefined {
  if (!created || created.startsWith("0001-01-01")) return undefined;
  const t = Date.parse(created);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * formatCreatedAt is docker's CreatedAt field (Go's time.Time String() in
 * local time): "2024-05-06 07:08:09 +0000 UTC".
 */
export function formatCreatedAt(created: string | undefined): string {
  const t = parseTime(created);
  if (t === undefined) return "";
  const d = new Date(t);
  const offsetMin = -d.getTimezoneOffset();
  const pad = (n: number, w = 2) => String(Math.trunc(n)).padStart(w, "0");
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const zone =
    offsetMin === 0
      ? "UTC"
      : (Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
          .formatToParts(d)
          .find((p) => p.type === "timeZoneName")?.value ?? "");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${sign}${pad(abs / 60)}${pad(abs % 60)} ${zone}`
  );
}
