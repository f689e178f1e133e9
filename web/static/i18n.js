// Every string the wallboard shows, one table per language. Keys are the same in
// both tables; `{name}` placeholders are filled by t(key, {name: value}).
// A key missing in one language falls back to English, then to the key itself.

export const STRINGS = {
  en: {
    "lang.name": "English",
    "lang.switch": "한국어",
    "lang.switch_title": "Switch to Korean",
    "app.title": "ACD wallboard",

    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.reconnecting": "Reconnecting…",
    "conn.closed": "Disconnected",
    "conn.last": "last update {time}",
    "conn.ago": "({ago} ago)",
    "conn.never": "no update yet",

    "head.engine_time": "Engine time",
    "head.role.viewer": "Viewer",
    "head.role.supervisor": "Supervisor",
    "head.logout": "Log out",
    "head.wall": "Wall mode",
    "head.wall_title": "Big-screen mode: queues and alerts only (Esc leaves)",
    "head.wall_exit": "Leave wall mode",

    "login.title": "Sign in to the wallboard",
    "login.help": "Enter your access token. It is kept in a secure session cookie, not in this browser's storage.",
    "login.token": "Access token",
    "login.submit": "Sign in",
    "login.failed": "Sign-in refused",
    "login.unreachable": "The server could not be reached",

    "alerts.count": "{n} alerts",
    "alerts.count_one": "1 alert",
    "act.supervise": "Listen in on this call (your phone rings)",
    "act.supervise_phone": "Your phone (e.g. PJSIP/supervisor1)",
    "act.supervise_no_call": "the agent is not on a call now",
    "act.listen": "Listen",
    "act.whisper": "Whisper to the agent",
    "act.barge": "Barge in",
    "alerts.more": "+{n} more",
    "alert.service_level": "{subject} {value} (target {threshold})",
    "alert.longest_wait": "{subject}: waiting {value} (limit {threshold})",
    "alert.vendor_cap": "{subject}: {value} of its {detail} cap",
    "alert.agent_stuck": "{subject}: {detail} for {value} (limit {threshold})",
    "alert.kind.service_level": "Service level",
    "alert.kind.longest_wait": "Longest wait",
    "alert.kind.vendor_cap": "Vendor caps",
    "alert.kind.agent_stuck": "Agents stuck",
    "cap.concurrent": "concurrent-calls",
    "cap.hour": "hourly",
    "cap.day": "daily",

    "totals.title": "All queues, today",
    "totals.in_ivr": "In the IVR",
    "totals.waiting": "Waiting",

    "fig.offered": "Offered",
    "fig.answered": "Answered",
    "fig.abandoned": "Abandoned",
    "fig.answer_rate": "Answer rate",
    "fig.service_level": "Service level",
    "fig.service_level_asterisk": "SL (Asterisk)",
    "fig.service_level_asterisk_title": "Service level as Asterisk's app_queue reports it: answered within T over answered calls only",
    "fig.service_level_title": "Answered within {t} over answered + abandoned after {t}",
    "fig.asa": "ASA",
    "fig.asa_title": "Average speed of answer: mean wait of the answered calls",
    "fig.aht": "AHT",
    "fig.aht_title": "Average handle time: talk + after-call work",
    "fig.overflowed": "To vendors",
    "fig.overflowed_title": "Calls overflowed to outsourced vendors",
    "fig.callbacks_requested": "Callbacks asked",

    "queues.title": "Queues",
    "queue.waiting": "Waiting",
    "queue.longest": "Longest wait",
    "queue.target": "target {target}",
    "queue.today": "Today",
    "queue.interval": "This interval",
    "queue.interval_from": "From {time}",
    "queue.callbacks_waiting": "Callbacks waiting",
    "queue.agents": "Agents available / staffed",
    "queue.agents_short": "Free/staffed",
    "queue.sl": "SL · {t}",
    "queue.announcement_on": "Emergency announcement playing",

    "surge.title": "Surge",
    "surge.stage": "Stage {n}",
    "surge.stage0": "Normal",
    "surge.since": "since {time}",
    "surge.pinned": "Pinned by a supervisor",
    "surge.pinned_short": "pinned",
    "surge.auto": "Automatic",
    "surge.manual": "Set by supervisors (no automatic stages)",
    "agent.pending.pause": "pause after this call",
    "agent.pending.logout": "log off after this call",
    "surge.rate": "Inbound rate",
    "surge.rate_value": "{n} calls a day",
    "surge.rate_title": "The rolling inbound rate the automatic stages follow",
    "surge.distancing": "Distancing level",
    "surge.remote": "Remote agents (in service / cap)",
    "surge.in_ivr": "Calls in the IVR",
    "surge.pin": "Pin stage",
    "surge.pin_n": "Pin {n}",
    "surge.release": "Release (automatic)",

    "ann.title": "Emergency announcement",
    "ann.none": "None in force",
    "ann.playing": "Playing",
    "ann.for_all": "for all queues",
    "ann.for_some": "for {queues}",
    "ann.media": "Sounds (comma-separated)",
    "ann.start": "Start",
    "ann.stop": "Stop",
    "ann.on": "on",
    "ann.badge": "Announcement on",
    "ann.off": "off",

    "vendors.title": "Vendors (outsourced)",
    "vendor.active": "Active calls",
    "vendor.hour": "This hour",
    "vendor.day": "Today",
    "vendor.nocap": "no cap",

    "pools.title": "Agents by pool",
    "pool.kind.in_house": "in-house",
    "pool.kind.remote": "remote",
    "pool.kind.vendor": "vendor",
    "pool.cap": "cap {n}",
    "pool.nocap": "no cap",
    "pool.logged_in": "{n} logged in",
    "pool.occupancy": "occupancy {p}",

    "chart.title": "The day so far, by completed interval",
    "chart.time": "Interval",
    "chart.arrived": "Arrived",
    "chart.offered": "Offered",
    "chart.answered": "Answered",
    "chart.abandoned": "Abandoned",
    "chart.sl": "Service level",
    "chart.target": "Target",

    "agents.title": "Agents",
    "agents.search": "Search name or id",
    "agents.pool_all": "All pools",
    "agents.all_states": "All",
    "agents.shown": "{n} shown",
    "agents.none": "No agent matches",
    "col.id": "ID",
    "col.name": "Name",
    "col.pool": "Pool",
    "col.state": "State",
    "col.reason": "Reason",
    "col.time": "Time in state",
    "col.missed": "Missed",
    "col.skills": "Skills",
    "col.actions": "Actions",

    "state.logged_out": "Logged out",
    "state.available": "Available",
    "state.reserved": "Ringing",
    "state.on_call": "On call",
    "state.wrap_up": "Wrap-up",
    "state.paused": "Paused",

    "reason.acw": "after-call work",
    "reason.missed": "missed ring",
    "reason.cool-down": "abusive-call cool-down",
    "reason.standby": "standby",
    "reason.break": "break",
    "reason.abusive_call": "after abusive call",
    "reason.training": "training",
    "reason.meeting": "meeting",
    "reason.other": "other",

    "act.pause": "Pause",
    "act.unpause": "Unpause",
    "act.logoff": "Log off",
    "act.logoff_confirm": "Confirm?",
    "act.manage": "More…",
    "act.manage_title": "Pool, skills and state of {name}",
    "act.pause_reason": "Pause reason",
    "act.other_text": "Other reason",
    "act.other_go": "Pause",
    "act.close": "Close",
    "act.move": "Move",
    "act.move_to": "Move to pool",
    "act.skills": "Skills (level 1-5, — removes)",
    "act.set": "Set",
    "act.none_level": "—",
    "act.state_now": "{state} for {time}",

    "toast.ok": "Done",
    "toast.failed": "Refused",
    "toast.network": "The server could not be reached: {error}",
    "toast.status": "HTTP {status}",
    "toast.field": "{error} (field: {field})",
    "toast.forbidden": "Not allowed for your role",
    "toast.session": "Your session has ended: sign in again",

    "dur.none": "—",
    "unit.s": "{n} s",
    "unit.min": "{n} min",
    "unit.h": "{n} h",
  },

  ko: {
    "lang.name": "한국어",
    "lang.switch": "English",
    "lang.switch_title": "영어로 보기",
    "app.title": "콜센터 현황판",

    "conn.connecting": "연결 중…",
    "conn.live": "실시간",
    "conn.reconnecting": "다시 연결하는 중…",
    "conn.closed": "연결 끊김",
    "conn.last": "마지막 갱신 {time}",
    "conn.ago": "({ago} 전)",
    "conn.never": "아직 갱신 없음",

    "head.engine_time": "엔진 시각",
    "head.role.viewer": "조회자",
    "head.role.supervisor": "관리자",
    "head.logout": "로그아웃",
    "head.wall": "전광판 모드",
    "head.wall_title": "대형 화면 모드: 대기열과 경보만 표시 (Esc로 나가기)",
    "head.wall_exit": "전광판 모드 끝내기",

    "login.title": "현황판 로그인",
    "login.help": "접속 토큰을 입력하세요. 토큰은 이 브라우저 저장소가 아닌 보안 세션 쿠키에 보관됩니다.",
    "login.token": "접속 토큰",
    "login.submit": "로그인",
    "login.failed": "로그인 거부",
    "login.unreachable": "서버에 연결할 수 없습니다",

    "alerts.count": "경보 {n}건",
    "alerts.count_one": "경보 1건",
    "act.supervise": "통화 모니터링 (내 전화가 울립니다)",
    "act.supervise_phone": "내 전화 (예: PJSIP/supervisor1)",
    "act.supervise_no_call": "상담사가 지금 통화 중이 아닙니다",
    "act.listen": "청취",
    "act.whisper": "상담사에게 코칭",
    "act.barge": "통화 참여",
    "alerts.more": "외 {n}건",
    "alert.service_level": "{subject} {value} (목표 {threshold})",
    "alert.longest_wait": "{subject}: {value} 대기 중 (기준 {threshold})",
    "alert.vendor_cap": "{subject}: {detail} 한도의 {value}",
    "alert.agent_stuck": "{subject}: {detail} {value} (기준 {threshold})",
    "alert.kind.service_level": "서비스 레벨",
    "alert.kind.longest_wait": "최장 대기",
    "alert.kind.vendor_cap": "위탁 한도",
    "alert.kind.agent_stuck": "상태 장기 지속",
    "cap.concurrent": "동시 통화",
    "cap.hour": "시간당",
    "cap.day": "일일",

    "totals.title": "전체 대기열, 오늘",
    "totals.in_ivr": "ARS 진행 중",
    "totals.waiting": "대기 고객",

    "fig.offered": "인입",
    "fig.answered": "응대",
    "fig.abandoned": "포기",
    "fig.answer_rate": "응대율",
    "fig.service_level": "서비스 레벨",
    "fig.service_level_asterisk": "SL (Asterisk 방식)",
    "fig.service_level_asterisk_title": "Asterisk app_queue 방식의 서비스 레벨: 응대호 중 T초 안에 응대한 비율",
    "fig.service_level_title": "{t} 안에 응대 / (응대 + {t} 넘어 포기)",
    "fig.asa": "평균 응답",
    "fig.asa_title": "평균 응답 속도(ASA): 응대된 호의 평균 대기 시간",
    "fig.aht": "평균 처리",
    "fig.aht_title": "평균 처리 시간(AHT): 통화 + 후처리",
    "fig.overflowed": "위탁 이관",
    "fig.overflowed_title": "위탁 업체로 넘긴 호",
    "fig.callbacks_requested": "콜백 요청",

    "queues.title": "대기열",
    "queue.waiting": "대기 고객",
    "queue.longest": "최장 대기",
    "queue.target": "목표 {target}",
    "queue.today": "오늘",
    "queue.interval": "현재 구간",
    "queue.interval_from": "{time}부터",
    "queue.callbacks_waiting": "콜백 대기",
    "queue.agents": "가용 / 근무 상담사",
    "queue.agents_short": "가용/근무",
    "queue.sl": "서비스 레벨 · {t}",
    "queue.announcement_on": "긴급 안내방송 중",

    "surge.title": "비상 대응 단계",
    "surge.stage": "{n}단계",
    "surge.stage0": "평시",
    "surge.since": "{time}부터",
    "surge.pinned": "관리자가 고정함",
    "surge.pinned_short": "고정",
    "surge.auto": "자동",
    "surge.manual": "관리자 설정 (자동 단계 없음)",
    "agent.pending.pause": "통화 후 휴식",
    "agent.pending.logout": "통화 후 로그아웃",
    "surge.rate": "인입 추세",
    "surge.rate_value": "하루 {n}콜",
    "surge.rate_title": "자동 단계 전환이 따르는 최근 인입률",
    "surge.distancing": "사회적 거리두기 단계",
    "surge.remote": "재택 상담 (근무 / 한도)",
    "surge.in_ivr": "ARS 진행 중",
    "surge.pin": "단계 고정",
    "surge.pin_n": "{n}단계 고정",
    "surge.release": "고정 해제 (자동)",

    "ann.title": "긴급 안내방송",
    "ann.none": "방송 없음",
    "ann.playing": "방송 중",
    "ann.for_all": "전체 대기열",
    "ann.for_some": "대상: {queues}",
    "ann.media": "음원 (쉼표로 구분)",
    "ann.start": "시작",
    "ann.stop": "중지",
    "ann.on": "방송 중",
    "ann.badge": "안내방송 중",
    "ann.off": "꺼짐",

    "vendors.title": "위탁 업체",
    "vendor.active": "동시 통화",
    "vendor.hour": "이번 시간",
    "vendor.day": "오늘",
    "vendor.nocap": "한도 없음",

    "pools.title": "상담 인력 그룹별 상태",
    "pool.kind.in_house": "센터 내",
    "pool.kind.remote": "재택",
    "pool.kind.vendor": "위탁",
    "pool.cap": "한도 {n}명",
    "pool.nocap": "한도 없음",
    "pool.logged_in": "로그인 {n}명",
    "pool.occupancy": "점유율 {p}",

    "chart.title": "오늘 구간별 현황 (끝난 구간)",
    "chart.time": "구간",
    "chart.arrived": "도착",
    "chart.offered": "인입",
    "chart.answered": "응대",
    "chart.abandoned": "포기",
    "chart.sl": "서비스 레벨",
    "chart.target": "목표",

    "agents.title": "상담사",
    "agents.search": "이름 또는 ID 검색",
    "agents.pool_all": "전체 그룹",
    "agents.all_states": "전체",
    "agents.shown": "{n}명 표시",
    "agents.none": "해당 상담사 없음",
    "col.id": "ID",
    "col.name": "이름",
    "col.pool": "그룹",
    "col.state": "상태",
    "col.reason": "사유",
    "col.time": "상태 지속",
    "col.missed": "무응답",
    "col.skills": "상담 분야",
    "col.actions": "조치",

    "state.logged_out": "로그아웃",
    "state.available": "대기(가용)",
    "state.reserved": "벨 울림",
    "state.on_call": "통화 중",
    "state.wrap_up": "후처리",
    "state.paused": "이석",

    "reason.acw": "후처리",
    "reason.missed": "무응답 후 휴식",
    "reason.cool-down": "악성 민원 후 휴식",
    "reason.standby": "예비 대기",
    "reason.break": "휴식",
    "reason.abusive_call": "악성 민원 후 휴식",
    "reason.training": "교육",
    "reason.meeting": "회의",
    "reason.other": "기타",

    "act.pause": "이석",
    "act.unpause": "복귀",
    "act.logoff": "로그아웃",
    "act.logoff_confirm": "확인?",
    "act.manage": "더보기…",
    "act.manage_title": "{name}: 그룹, 상담 분야, 상태",
    "act.pause_reason": "이석 사유",
    "act.other_text": "기타 사유",
    "act.other_go": "이석",
    "act.close": "닫기",
    "act.move": "이동",
    "act.move_to": "그룹 이동",
    "act.skills": "상담 분야 (수준 1-5, — 는 제외)",
    "act.set": "적용",
    "act.none_level": "—",
    "act.state_now": "현재 {state}, {time} 지속",

    "toast.ok": "완료",
    "toast.failed": "거부됨",
    "toast.network": "서버에 연결할 수 없습니다: {error}",
    "toast.status": "HTTP {status}",
    "toast.field": "{error} (항목: {field})",
    "toast.forbidden": "권한이 없습니다",
    "toast.session": "세션이 끝났습니다. 다시 로그인하세요",

    "dur.none": "—",
    "unit.s": "{n}초",
    "unit.min": "{n}분",
    "unit.h": "{n}시간",
  },
};

export const LANGS = Object.keys(STRINGS);
const STORAGE_KEY = "acd.wallboard.lang";

/** The language to start with: the one remembered, else the browser's. */
export function initialLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    /* storage blocked: fall through */
  }
  if (saved && STRINGS[saved]) return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function rememberLang(lang) {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage blocked: the choice lasts for this page only */
  }
}

let current = "en";

export function setLang(lang) {
  current = STRINGS[lang] ? lang : "en";
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

/** The BCP 47 locale used for numbers and times. */
export function locale() {
  return current === "ko" ? "ko-KR" : "en-GB";
}

export function t(key, params) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return s;
}

/** Fill every [data-i18n] element's text (and [data-i18n-title], [data-i18n-placeholder],
 * [data-i18n-aria]) under `root` from the table. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
}
