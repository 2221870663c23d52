// cdl explorer and passport verifier. Talks only to this node's /api/v1.
// Every value from the ledger is inserted as text (never as HTML).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 5000;
  const RECORDS_SHOWN = 20;
  let refreshTimer = null;

  // ---- helpers ----------------------------------------------------------

  // Builds an element: el('a', {href: '#/x'}, 'text', child, ...).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'className') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // GET or POST to the API; resolves to the parsed JSON, rejects with an
  // Error whose message is the API's error message.
  async function api(path, options) {
    const response = await fetch('/api/v1/' + path, options);
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      throw new Error('the node answered ' + response.status + ' without JSON');
    }
    if (!response.ok) {
      const message = body && body.error ? body.error.code + ': ' + body.error.message : 'HTTP ' + response.status;
      throw new Error(message);
    }
    return body;
  }

  function short(hex) {
    return hex.length > 16 ? hex.slice(0, 8) + '…' + hex.slice(-8) : hex;
  }

  function recordLink(id) {
    return el('a', {href: '#/record/' + id, title: id}, el('code', {}, short(id)));
  }

  function blockLink(height) {
    return el('a', {href: '#/block/' + height}, String(height));
  }

  function isoTime(ms) {
    const n = Number(ms);
    if (!n) return '';
    return new Date(n).toISOString().replace('.000Z', 'Z');
  }

  // A definition list from [term, value] pairs; empty values are skipped.
  function details(pairs) {
    const dl = el('dl', {className: 'details'});
    for (const [term, value] of pairs) {
      if (value === '' || value === null || value === undefined) continue;
      dl.append(el('dt', {}, term), el('dd', {}, value));
    }
    return dl;
  }

  function showPageError(message) {
    const box = $('page-error');
    box.textContent = message;
    box.hidden = !message;
  }

  // ---- explorer ---------------------------------------------------------

  async function loadStatus() {
    const s = await api('status');
    $('chain-status').textContent = 'Chain ' + s.chain_id + ' · node ' + s.node_id + ' · height ' + s.height +
        ' (certified ' + s.certified_height + ') · ' + s.ledger_size + ' accepted records · ' +
        s.validators + ' validator(s)';
  }

  async function loadHome() {
    try {
      await loadStatus();
      const list = await api('blocks?limit=10');
      const blocks = clear($('blocks'));
      if (list.blocks.length === 0) {
        blocks.append(el('tr', {}, el('td', {colspan: '6'}, 'No blocks yet.')));
      }
      for (const b of list.blocks) {
        blocks.append(el('tr', {},
          el('td', {}, blockLink(b.height)),
          el('td', {}, b.time),
          el('td', {}, String(b.record_count)),
          el('td', {}, String(b.ledger_size)),
          el('td', {}, b.proposer),
          el('td', {}, b.certified ? 'yes' : 'not yet')));
      }
      // Latest records: from the newest blocks that carry any.
      const records = [];
      for (const b of list.blocks) {
        if (records.length >= RECORDS_SHOWN) break;
        if (b.record_count === 0) continue;
        const block = await api('blocks/' + b.height);
        for (const r of block.records.slice().reverse()) {
          if (records.length < RECORDS_SHOWN) records.push(r);
        }
      }
      const rows = clear($('records'));
      if (records.length === 0) rows.append(el('tr', {}, el('td', {colspan: '5'}, 'No records yet.')));
      for (const r of records) {
        rows.append(el('tr', {},
          el('td', {}, recordLink(r.record_id)),
          el('td', {}, r.type),
          el('td', {}, r.author),
          el('td', {className: 'status-' + r.status.toLowerCase()}, r.status),
          el('td', {}, blockLink(r.height))));
      }
      $('updated').textContent = 'Updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
      showPageError('');
    } catch (e) {
      showPageError('Cannot load the explorer: ' + e.message);
    }
  }

  // ---- record and block pages --------------------------------------------

  function receiptOutcome(receipt) {
    if (receipt.status === 'ACCEPTED') return 'ACCEPTED at height ' + receipt.height + ', leaf ' + receipt.ledger_index;
    if (receipt.status === 'REJECTED') return 'REJECTED at height ' + receipt.height + ': ' + receipt.code + ': ' + receipt.message;
    return receipt.status;
  }

  async function showRecord(id) {
    const box = clear($('record'));
    $('record-title').textContent = 'Record';
    box.append(el('p', {}, 'Loading…'));
    try {
      const r = await api('records/' + encodeURIComponent(id));
      clear(box);
      $('record-title').textContent = 'Record ' + short(r.record_id);
      const body = r.body || {};
      const payload = body[r.type] || {};
      // A footprint is stored as PACT JSON text: show it as the object it is.
      if (typeof payload.pact_json === 'string') {
        try { payload.pact_json = JSON.parse(payload.pact_json); } catch (e) { /* shown as text */ }
      }
      const receipt = r.receipt;
      box.append(details([
        ['Record id', el('code', {}, r.record_id)],
        ['Type', r.type],
        ['Author', body.author + ' (sequence ' + (body.sequence || '0') + ')'],
        ['Created (claimed by the author)', isoTime(body.created_ms)],
        ['Status', el('span', {className: 'status-' + receipt.status.toLowerCase()}, receiptOutcome(receipt))],
        ['Block', receipt.height ? blockLink(receipt.height) : ''],
        ['Signed by', r.signatures.map((s) => s.member + ' (key ' + short(s.key_id) + ')').join(', ')],
      ]));
      const links = el('p', {},
        el('a', {href: '/api/v1/records/' + r.record_id}, 'Record JSON'), ' · ',
        el('a', {href: '/api/v1/receipts/' + r.record_id}, 'Receipt JSON'));
      if (receipt.status === 'ACCEPTED') {
        links.append(' · ', el('a', {href: '/api/v1/proofs/' + r.record_id, download: 'proof-' + short(r.record_id) + '.json'},
          'Inclusion proof (check offline with cdl verify-proof)'));
      }
      box.append(links);
      box.append(el('h3', {}, 'Content (' + r.type + ')'));
      box.append(el('pre', {className: 'json', tabindex: '0'}, JSON.stringify(payload, null, 2)));
      box.append(el('h3', {}, 'Receipt'));
      box.append(el('pre', {className: 'json', tabindex: '0'}, JSON.stringify(receipt, null, 2)));
    } catch (e) {
      clear(box).append(el('p', {className: 'error', role: 'alert'}, 'Cannot show record ' + id + ': ' + e.message));
    }
  }

  async function showBlock(height) {
    const box = clear($('block'));
    $('block-title').textContent = 'Block ' + height;
    box.append(el('p', {}, 'Loading…'));
    try {
      const b = await api('blocks/' + encodeURIComponent(height));
      clear(box);
      box.append(details([
        ['Height', String(b.height)],
        ['Block hash', el('code', {}, b.block_hash)],
        ['Time (UTC)', b.time],
        ['Proposer', b.proposer],
        ['Records', String(b.record_count)],
        ['Ledger size', String(b.ledger_size)],
        ['Commit signatures', b.commit.signers.length + ' of a quorum of ' + b.commit.quorum + ': ' + b.commit.signers.join(', ')],
        ['Certified', b.certified ? 'yes' : 'not yet'],
      ]));
      const rows = el('tbody');
      for (const r of b.records) {
        rows.append(el('tr', {}, el('td', {}, recordLink(r.record_id)), el('td', {}, r.type), el('td', {}, r.author),
          el('td', {className: 'status-' + r.status.toLowerCase()}, r.status === 'REJECTED' ? 'REJECTED: ' + r.code : r.status)));
      }
      box.append(el('h3', {id: 'block-records-title'}, 'Records'),
        el('table', {'aria-labelledby': 'block-records-title'},
          el('thead', {}, el('tr', {}, el('th', {scope: 'col'}, 'Record'), el('th', {scope: 'col'}, 'Type'),
            el('th', {scope: 'col'}, 'Author'), el('th', {scope: 'col'}, 'Status'))),
          rows));
    } catch (e) {
      clear(box).append(el('p', {className: 'error', role: 'alert'}, 'Cannot show block ' + height + ': ' + e.message));
    }
  }

  // ---- passport verifier -------------------------------------------------

  let lastFile = null;

  function certifiedLines(verdict) {
    const lines = [];
    for (const c of verdict.certificates) {
      if (!c.counts) continue;
      const certifier = (c.certifier_name || c.certifier) + ' (' + c.certifier + ', ' + c.certifier_jurisdiction + ')';
      const recognition = c.issued_under === verdict.jurisdiction
        ? 'accredited in ' + c.issued_under
        : 'issued under ' + c.issued_under + ' accreditation, recognised in ' + verdict.jurisdiction +
          ' by agreement of ' + c.recognised_by;
      // A window that opens at 0 opens when the certificate was accepted.
      const from = c.valid_from.startsWith('1970-01-01T00:00:00') ? '' : c.valid_from;
      const validity = from && c.valid_until ? from + ' to ' + c.valid_until
        : c.valid_until ? 'until ' + c.valid_until : from ? 'from ' + from : 'without end';
      lines.push({certifier, recognition, standard: c.standard, assurance: c.assurance, validity});
    }
    return lines;
  }

  function renderVerdict(verdict, fileName) {
    const box = clear($('verify-result'));
    const valid = verdict.verdict === 'VALID';
    box.className = 'verify-result ' + (valid ? 'valid' : 'invalid');
    box.append(el('h3', {className: 'verdict', id: 'verdict'}, verdict.verdict));
    box.append(el('p', {}, fileName + ' — checked for ' + verdict.jurisdiction + ' at ' + verdict.checked_at));
    const s = verdict.subject || {};
    if (valid) {
      const subject = s.type === 'product_footprint'
        ? [['Product', s.product + (s.product_ids && s.product_ids.length ? ' (' + s.product_ids[0] + ')' : '') +
              ', ' + s.organisation + ' [' + s.author + ']'],
           ['Footprint', s.pcf + ' ' + s.unit + (s.pact_id ? ' (PACT ' + s.pact_id + ')' : '')]]
        : [['Disclosure', s.organisation + ', period ' + s.period],
           ['Scope 1', s.scope1_tco2e + ' tCO2e'], ['Scope 2 (location)', s.scope2_location_tco2e + ' tCO2e']];
      const pairs = subject.slice();
      for (const c of certifiedLines(verdict)) {
        pairs.push(['Certifier', c.certifier], ['Standard', c.standard], ['Assurance', c.assurance],
          ['Valid', c.validity], ['Recognition', c.recognition]);
      }
      pairs.push(['Checkpoint', 'status as of checkpoint ' + verdict.checkpoint.height + ' (' + verdict.checkpoint.time + ')']);
      box.append(details(pairs));
      box.append(el('p', {className: 'muted'}, 'Record ' + s.record_id));
    } else {
      box.append(el('p', {}, 'Do not rely on this passport. Every reason found:'));
      const list = el('ul', {className: 'reasons', 'aria-label': 'Reasons the passport is invalid'});
      for (const reason of verdict.reasons) list.append(el('li', {}, reason));
      box.append(list);
    }
  }

  async function verifyFile(file) {
    lastFile = file;
    const box = clear($('verify-result'));
    box.className = 'verify-result';
    if (file.size > 2 * 1024 * 1024) {
      box.className = 'verify-result invalid';
      box.append(el('p', {}, file.name + ' is larger than 2 MiB: it is not a passport.'));
      return;
    }
    box.append(el('p', {}, 'Verifying ' + file.name + '…'));
    const jurisdiction = $('jurisdiction').value.trim().toUpperCase();
    const query = jurisdiction ? '?jurisdiction=' + encodeURIComponent(jurisdiction) : '';
    try {
      const bytes = await file.arrayBuffer();
      const verdict = await api('passport/verify' + query, {
        method: 'POST',
        headers: {'Content-Type': 'application/octet-stream'},
        body: bytes,
      });
      renderVerdict(verdict, file.name);
    } catch (e) {
      clear(box).append(el('p', {className: 'error'}, 'Cannot verify ' + file.name + ': ' + e.message));
    }
  }

  function setUpVerifier() {
    const input = $('passport-file');
    input.addEventListener('change', () => {
      if (input.files.length > 0) verifyFile(input.files[0]);
    });
    $('verify-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (input.files.length > 0) verifyFile(input.files[0]);
      else if (lastFile) verifyFile(lastFile);
      else {
        const box = clear($('verify-result'));
        box.className = 'verify-result';
        box.append(el('p', {}, 'Choose a passport file first.'));
        input.focus();
      }
    });
    const zone = $('drop-zone');
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('dragging');
      const files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length > 0) verifyFile(files[0]);
    });
  }

  // ---- routing -----------------------------------------------------------

  function show(view) {
    for (const name of ['home', 'record', 'block']) $('view-' + name).hidden = name !== view;
    $('view-verify').hidden = !(view === 'home' || view === 'verify');
  }

  function route() {
    clearInterval(refreshTimer);
    refreshTimer = null;
    const hash = location.hash || '#/';
    let m;
    if ((m = hash.match(/^#\/record\/([0-9a-fA-F]{64})$/))) {
      show('record');
      showRecord(m[1].toLowerCase());
      loadStatus().catch(() => {});
    } else if ((m = hash.match(/^#\/block\/([0-9]{1,20})$/))) {
      show('block');
      showBlock(m[1]);
      loadStatus().catch(() => {});
    } else if (hash === '#/verify') {
      show('verify');
      loadStatus().catch(() => {});
      $('verify-title').scrollIntoView();
    } else {
      show('home');
      loadHome();
      refreshTimer = setInterval(loadHome, REFRESH_MS);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('refresh').addEventListener('click', loadHome);
    setUpVerifier();
    window.addEventListener('hashchange', () => {
      route();
      $('main').focus();
    });
    route();
  });
})();
