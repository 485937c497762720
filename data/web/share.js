// The page's own link, to pass on: its text, a Copy button and a QR code; how p2plive: and web+p2plive:
// links open; and what to do when the page was opened for another stream (?open=LINK, the URL that a
// registered web+p2plive: handler gets).
'use strict';

// Clipboard API where the page may use it (a secure context: localhost is one, a LAN address is not);
// else select the text and ask for the old copy command.
async function copyText(text, element) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    const range = document.createRange();
    range.selectNodeContents(element);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    try {
      return document.execCommand('copy');
    } catch (e2) {
      return false;  // the text stays selected for Ctrl+C
    }
  }
}

function wireCopyButton(button, element) {
  button.addEventListener('click', async () => {
    const ok = await copyText(element.textContent, element);
    button.textContent = ok ? 'Copied' : 'Selected: press Ctrl+C';
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 2500);
  });
}

// The QR code with qrcode-generator (a plain script that defines `qrcode`), drawn module by module on a
// canvas, with the quiet zone of four modules that scanners need. Hidden when the library is missing.
function drawQr(canvas, text) {
  if (typeof qrcode !== 'function') {
    canvas.hidden = true;
    return;
  }
  let qr;
  try {
    qr = qrcode(0, 'M');  // type 0: the smallest version that holds the text
    qr.addData(text);
    qr.make();
  } catch (e) {
    canvas.hidden = true;  // too long for a QR code
    return;
  }
  const modules = qr.getModuleCount();
  const quiet = 4;
  const scale = Math.max(2, Math.floor(canvas.width / (modules + 2 * quiet)));
  const size = scale * (modules + 2 * quiet);
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = '#000';
  for (let r = 0; r < modules; ++r) {
    for (let c = 0; c < modules; ++c) {
      if (qr.isDark(r, c)) ctx.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
    }
  }
  canvas.hidden = false;
  canvas.dataset.modules = String(modules);
}

// The link a web+p2plive: handler was given. The browser puts the whole web+p2plive:... URL,
// percent-encoded, where %s was; read it from the raw query, since URLSearchParams would turn a literal
// '+' into a space. Returns a p2plive:... link, or '' when there is none.
function openedLink(search) {
  const m = /[?&]open=([^&#]*)/.exec(search);
  if (!m) return '';
  let s = m[1];
  // Some browsers encode it twice; a link never holds a literal "%3A".
  for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(s); ++i) {
    try {
      s = decodeURIComponent(s);
    } catch (e) {
      break;
    }
  }
  s = s.trim().replace(/^web\+p2plive:(\/\/)?/i, '');
  if (!s) return '';
  return /^p2plive:/i.test(s) ? 'p2plive:' + s.slice('p2plive:'.length) : 'p2plive:' + s;
}

// A shell word: single quotes, each quote inside written as '\''.
function shellQuote(s) { return `'${s.replace(/'/g, `'\\''`)}'`; }

class SharePanel {
  constructor(el) {
    this.el = el;  // { link, copy, qr, open, other, otherCommand, otherCopy, register, registerResult }
    this.link = '';
    wireCopyButton(el.copy, el.link);
    wireCopyButton(el.otherCopy, el.otherCommand);
    el.register.addEventListener('click', () => this.register());
    this.wanted = openedLink(location.search);
  }

  // Called with stats.json's link each second; redraws only when it changes.
  setLink(link) {
    if (!link || link === this.link) return;
    this.link = link;
    this.el.link.textContent = link;
    this.el.open.href =
        link;  // a desktop set up by ci/setup opens p2plive: links with `p2plive watch --play`
    this.el.open.hidden = false;
    drawQr(this.el.qr, link);
    this.checkOpened();
  }

  // This node plays one stream. A page opened for that one just plays; for another it says what to run.
  checkOpened() {
    if (!this.wanted) return;
    const other = this.wanted !== this.link;
    this.el.other.hidden = !other;
    if (other) this.el.otherCommand.textContent = `p2plive watch ${shellQuote(this.wanted)} --play`;
  }

  register() {
    const result = this.el.registerResult;
    if (!navigator.registerProtocolHandler) {
      result.textContent = 'This browser cannot register link handlers.';
      return;
    }
    try {
      navigator.registerProtocolHandler('web+p2plive', `${location.origin}/?open=%s`);
      result.textContent = 'Asked: the browser shows its own prompt to confirm (look near the address bar).';
    } catch (e) {
      result.textContent = `The browser refused (${e.name}: ${e.message}). It asks for a secure page: ` +
          'open this page as http://localhost:PORT or http://127.0.0.1:PORT.';
    }
  }
}

if (typeof module === 'object' && module.exports) module.exports = {openedLink, shellQuote, drawQr};
