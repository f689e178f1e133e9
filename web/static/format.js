// Numbers, rates, durations and times of day, formatted for the current language.
import { locale, t } from "./i18n.js";

// The site's time zone: times of day are the site's, wherever the browser is. The
// Update gives it as a UTC offset ("+09:00"); undefined: the browser's own zone.
export let SITE_TIME_ZONE = undefined;

/** An Intl time zone for a UTC offset "+HH:MM": Etc/GMT-H for whole hours (the Etc
 * zones' signs are the other way round), else the offset itself where the browser
 * takes offsets, else undefined (the browser's zone). */
function zoneOf(offset) {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset || "");
  if (!m) return undefined;
  const hours = Number(m[2]);
  if (m[3] === "00") return hours === 0 ? "UTC" : `Etc/GMT${m[1] === "+" ? "-" : "+"}${hours}`;
  try {
    new Intl.DateTimeFormat("en", { timeZone: offset });
    return offset;
  } catch {
    return undefined;
  }
}

export function setSiteTimeZone(offset) {
  const zone = zoneOf(offset);
  if (zone === SITE_TIME_ZONE) return;
  SITE_TIME_ZONE = zone;
  cache.clear();
}

const cache = new Map();
function formatter(kind, make) {
  const key = `${locale()}|${kind}`;
  let f = cache.get(key);
  if (!f) {
    f = make(locale());
    cache.set(key, f);
  }
  return f;
}

/** A Date for uPlot's axes and anything else that needs the site's wall clock. */
export function siteDate(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  if (!SITE_TIME_ZONE) return d;
  // uPlot draws with the Date's local fields: shift them to the site's zone.
  return new Date(d.toLocaleString("en-US", { timeZone: SITE_TIME_ZONE }));
}

export function num(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return t("dur.none");
  return formatter("int", (l) => new Intl.NumberFormat(l, { maximumFractionDigits: 0 })).format(n);
}

/** A 0-1 rate as a percentage; one decimal under 10 %, none above (calm, stable width). */
export function pct(r, digits) {
  if (r === null || r === undefined || Number.isNaN(r)) return t("dur.none");
  const d = digits ?? (r < 0.1 && r > 0 ? 1 : 0);
  return formatter(`pct${d}`, (l) =>
    new Intl.NumberFormat(l, {
      style: "percent",
      minimumFractionDigits: d,
      maximumFractionDigits: d,
    }),
  ).format(r);
}

/** Seconds as m:ss, or h:mm:ss from an hour on; "—" for none. */
export function dur(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return t("dur.none");
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Time of day at the site, HH:MM:SS (24 h). */
export function clock(epochSeconds) {
  if (!epochSeconds) return t("dur.none");
  return formatter("clock", (l) =>
    new Intl.DateTimeFormat(l, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZone: SITE_TIME_ZONE,
    }),
  ).format(new Date(epochSeconds * 1000));
}

/** Time of day at the site, HH:MM (24 h). */
export function hhmm(epochSeconds) {
  if (!epochSeconds) return t("dur.none");
  return formatter("hhmm", (l) =>
    new Intl.DateTimeFormat(l, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: SITE_TIME_ZONE,
    }),
  ).format(new Date(epochSeconds * 1000));
}

/** Date and time at the site (for "since" that may be another day). */
export function dayTime(epochSeconds, nowSeconds) {
  if (!epochSeconds) return t("dur.none");
  const day = formatter("day", () =>
    new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone: SITE_TIME_ZONE }),
  );
  const sameDay = nowSeconds && day.format(epochSeconds * 1000) === day.format(nowSeconds * 1000);
  if (sameDay) return hhmm(epochSeconds);
  return formatter("daytime", (l) =>
    new Intl.DateTimeFormat(l, {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: SITE_TIME_ZONE,
    }),
  ).format(new Date(epochSeconds * 1000));
}

/** A length of time in words, for thresholds: "20 s", "5 min", "1 h" (ko: 20초, 5분, 1시간). */
export function span(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return t("dur.none");
  if (seconds < 120 || seconds % 60) return t("unit.s", { n: num(seconds) });
  if (seconds < 7200 || seconds % 3600) return t("unit.min", { n: num(seconds / 60) });
  return t("unit.h", { n: num(seconds / 3600) });
}
