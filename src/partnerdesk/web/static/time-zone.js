// Progressive enhancement: tells the portal the browser's time zone (a cookie read by the next page),
// so times are shown in it until the agent chooses one. Pages work the same without it, in the
// partner's country's time zone or in UTC.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
    return;
  }
  var cookie = "partnerdesk_browser_time_zone=" + zone;
  if (document.cookie.split("; ").indexOf(cookie) === -1) {
    document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
  }
})();
