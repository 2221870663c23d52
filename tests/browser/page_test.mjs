// Drives cdl-node's web page in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core) the way a person would: the explorer lists blocks
// and records, a record page shows the decoded record and its receipt, a
// valid passport dropped on the verifier shows VALID with its summary, and a
// tampered one chosen with the file input shows INVALID with every reason.
// Screenshots go to --shots. Exit 0 when every check passed, 1 otherwise.
//
// node page_test.mjs --url http://127.0.0.1:PORT/ --valid FILE --tampered FILE
//     --record ID --product TEXT --certifier ID --shots DIR [--chromium PATH]
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

function parseArgs(argv) {
  const args = {chromium: '/usr/bin/chromium'};
  for (let i = 2; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('bad argument ' + argv[i]);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ['url', 'valid', 'tampered', 'record', 'product', 'certifier', 'shots']) {
    if (!args[required]) throw new Error('missing --' + required);
  }
  return args;
}

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    throw new Error('playwright-core is not installed in tests/browser/node_modules — run deploy/install-deps.sh ' +
                    '(it runs npm ci there): ' + e.message);
  }
}

// Drops `file` on the drop zone as a person dragging it from a file manager would.
async function dropFile(page, selector, file) {
  const bytes = Array.from(fs.readFileSync(file));
  const name = path.basename(file);
  const dataTransfer = await page.evaluateHandle(({bytes, name}) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], name, {type: 'application/octet-stream'}));
    return dt;
  }, {bytes, name});
  await page.dispatchEvent(selector, 'dragover', {dataTransfer});
  await page.dispatchEvent(selector, 'drop', {dataTransfer});
}

async function main() {
  const args = parseArgs(process.argv);
  if (!fs.existsSync(args.chromium)) {
    throw new Error(args.chromium + ' not found — install Debian\'s chromium (deploy/install-deps.sh)');
  }
  fs.mkdirSync(args.shots, {recursive: true});
  const {chromium} = await loadPlaywright();
  const browser = await chromium.launch({executablePath: args.chromium, args: ['--no-sandbox'], headless: true});
  const failures = [];
  const step = async (name, fn) => {
    try {
      await fn();
      console.log('ok   ' + name);
    } catch (e) {
      failures.push(name);
      console.log('FAIL ' + name + ': ' + e.message);
    }
  };
  try {
    const page = await browser.newPage({viewport: {width: 1200, height: 1000}});
    const external = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(args.url)) external.push(request.url());
    });
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(args.url, {waitUntil: 'load'});

    await step('the explorer lists the latest blocks and records', async () => {
      await page.waitForSelector('#blocks tr td a[href^="#/block/"]', {timeout: 15000});
      const blocks = await page.locator('#blocks tr').count();
      check(blocks >= 5, 'at least 5 blocks listed, got ' + blocks);
      await page.waitForSelector('#records tr td a[href^="#/record/"]', {timeout: 15000});
      const records = await page.locator('#records tr').count();
      check(records >= 5, 'at least 5 records listed, got ' + records);
      const status = await page.textContent('#chain-status');
      check(/height \d+/.test(status), 'chain status shows the height: ' + status);
      check(await page.locator(`#records a[href="#/record/${args.record}"]`).count() === 1,
            'the footprint is among the latest records');
      await page.screenshot({path: path.join(args.shots, 'explorer.png'), fullPage: true});
    });

    await step('a valid passport dropped on the verifier shows VALID and its summary', async () => {
      await dropFile(page, '#drop-zone', args.valid);
      await page.waitForSelector('#verdict', {timeout: 15000});
      const verdict = (await page.textContent('#verdict')).trim();
      check(verdict === 'VALID', 'verdict VALID, got ' + verdict);
      const text = await page.textContent('#verify-result');
      for (const expected of ['Product', args.product, 'Footprint', 'kgCO2e', 'Certifier', args.certifier,
                              'Standard', 'ISO 14067', 'Assurance', 'reasonable', 'Recognition', 'recognised in EU',
                              'Checkpoint', 'status as of checkpoint']) {
        check(text.includes(expected), 'summary shows "' + expected + '"');
      }
      check(await page.getAttribute('#verify-result', 'aria-live') === 'polite', 'result region is aria-live');
      await page.locator('#verify-result').scrollIntoViewIfNeeded();
      await page.screenshot({path: path.join(args.shots, 'passport-valid.png'), fullPage: true});
    });

    await step('a tampered passport chosen with the keyboard-usable file input shows INVALID with reasons', async () => {
      await page.focus('#passport-file');
      check(await page.evaluate(() => document.activeElement.id) === 'passport-file', 'the file input takes focus');
      check(await page.locator('label[for="passport-file"]').count() === 1, 'the file input has a label');
      await page.setInputFiles('#passport-file', args.tampered);
      await page.waitForFunction(() => {
        const v = document.getElementById('verdict');
        return v && v.textContent.trim() === 'INVALID';
      }, null, {timeout: 15000});
      const reasons = await page.locator('#verify-result ul.reasons li').allTextContents();
      check(reasons.length >= 1 && reasons.every((r) => r.trim().length > 0), 'reasons listed: ' + reasons.length);
      await page.locator('#verify-result').scrollIntoViewIfNeeded();
      await page.screenshot({path: path.join(args.shots, 'passport-tampered.png'), fullPage: true});
      console.log('     reasons: ' + reasons.join(' | ').slice(0, 300));
    });

    await step('a record page shows the decoded record and its receipt', async () => {
      await page.goto(args.url + '#/record/' + args.record, {waitUntil: 'load'});
      await page.waitForFunction(() => document.getElementById('record-title').textContent !== 'Record' ||
                                       document.querySelector('#record .error'), null, {timeout: 15000});
      const text = await page.textContent('#record');
      check(!text.includes('Cannot show'), 'record loaded: ' + text.slice(0, 200));
      for (const expected of ['product_footprint', 'ACCEPTED', args.product, 'Receipt', 'Inclusion proof']) {
        check(text.includes(expected), 'record page shows "' + expected + '"');
      }
      check(await page.isHidden('#view-home'), 'the explorer is hidden on a record page');
      await page.screenshot({path: path.join(args.shots, 'record.png'), fullPage: true});
    });

    await step('the page fetched nothing from elsewhere and logged no errors', async () => {
      check(external.length === 0, 'requests to other origins: ' + external.join(', '));
      check(consoleErrors.length === 0, 'console errors: ' + consoleErrors.join(' | '));
    });
  } finally {
    await browser.close();
  }
  console.log(`${5 - failures.length} passed, ${failures.length} failed`);
  return failures.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error('page_test: ' + e.message);
  process.exit(1);
});
