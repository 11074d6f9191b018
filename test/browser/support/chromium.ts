import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CLIENT_INDEX = path.join(__dirname, '..', '..', '..', 'client', 'dist', 'index.html');
export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless; fails loudly (never skips) when it or the built client is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
  if (!fs.existsSync(CLIENT_INDEX)) throw new Error(`${CLIENT_INDEX} is missing: run \`node scripts/build.mjs\` first`);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS });
  return refusingCspViolations(browser);
}

/**
 * Every page of the browser is watched for what the server's Content-Security-Policy blocked (an
 * inline script or style, a foreign connection): closing the browser then fails, naming them.
 */
function refusingCspViolations(browser: Browser): Browser {
  const violations: string[] = [];
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args: Parameters<Browser['newContext']>) => {
    const context = await newContext(...args);
    context.on('console', (message) => {
      if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(message.text()))
        violations.push(`${message.location().url}: ${message.text()}`);
    });
    return context;
  };
  const close = browser.close.bind(browser);
  browser.close = async (...args: Parameters<Browser['close']>) => {
    await close(...args);
    if (violations.length) throw new Error(`the page broke its Content-Security-Policy:\n${[...new Set(violations)].join('\n')}`);
  };
  return browser;
}

/** Where a screen's picture goes (the folder exists). */
export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}
