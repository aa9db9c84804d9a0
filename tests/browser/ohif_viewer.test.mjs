// The OHIF viewer (npm @ohif/app's prebuilt dist/, scripts/fetch-ohif) on
// an origin of its own, its data source pointed at dicomd's DICOMweb: the
// study list shows the uploaded studies, and opening the CT draws its image
// in the viewport. Screenshots go to SCREENSHOT_DIR. Run by
// tests/dicomweb/dicomweb_browser_test.cpp:
//   DICOMD_PORT=... OHIF_DIST=... SCREENSHOT_DIR=... STUDY_UID=... node --test ohif_viewer.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { serveStatic } from "./serve_static.mjs";

const dicomweb = `http://127.0.0.1:${process.env.DICOMD_PORT}/dicom-web`;
const screenshots = process.env.SCREENSHOT_DIR;
let browser, viewer, page;

// The data source as docs/dicomweb.md shows it.
const appConfig = `window.config = {
  routerBasename: "/",
  extensions: [],
  modes: [],
  showStudyList: true,
  maxNumberOfWebWorkers: 2,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  defaultDataSourceName: "dicomd",
  dataSources: [{
    namespace: "@ohif/extension-default.dataSourcesModule.dicomweb",
    sourceName: "dicomd",
    configuration: {
      friendlyName: "dicomd",
      name: "dicomd",
      wadoUriRoot: "${dicomweb}",
      qidoRoot: "${dicomweb}",
      wadoRoot: "${dicomweb}",
      qidoSupportsIncludeField: true,
      imageRendering: "wadors",
      thumbnailRendering: "wadors",
      enableStudyLazyLoad: true,
      supportsFuzzyMatching: true,
      supportsWildcard: true,
      omitQuotationForMultipartRequest: true,
      bulkDataURI: { enabled: true },
    },
  }],
};`;

before(async () => {
  await mkdir(screenshots, { recursive: true });
  viewer = await serveStatic(process.env.OHIF_DIST, { overrides: { "/app-config.js": appConfig }, fallback: "index.html" });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60000);
  page.on("pageerror", (e) => console.log("page error:", e.message));
});

after(async () => {
  await browser?.close();
  await viewer?.close();
});

test("the study list shows the studies dicomd holds", async () => {
  await page.goto(`http://127.0.0.1:${viewer.port}/`);
  await page.getByText("CompressedSamples", { exact: false }).first().waitFor();
  const text = await page.textContent("body");
  // OHIF writes a name Family, Given.
  assert.match(text, /CompressedSamples, CT1/);
  assert.match(text, /CompressedSamples, MR1/);
  assert.match(text, /1-2 of 2/);
  await page.screenshot({ path: join(screenshots, "ohif-study-list.png") });
});

test("opening the CT draws its image in the viewport", async () => {
  await page.goto(`http://127.0.0.1:${viewer.port}/viewer?StudyInstanceUIDs=${process.env.STUDY_UID}`);
  const canvas = page.locator("canvas.cornerstone-canvas").first();
  await canvas.waitFor();
  // Drawn: the canvas holds more than one grey level (a blank viewport is uniform).
  let levels = 0;
  for (let i = 0; i < 120 && levels < 16; ++i) {
    levels = await canvas.evaluate((c) => {
      const ctx = c.getContext("2d");
      if (!ctx || c.width === 0) return 0;
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let p = 0; p < data.length; p += 4 * 97) seen.add(data[p]);
      return seen.size;
    });
    if (levels < 16) await page.waitForTimeout(500);
  }
  assert.ok(levels >= 16, `the viewport shows ${levels} grey levels`);
  // Out of the way of the screenshot: the first-visit tour and notice.
  for (const label of ["Skip all", "Confirm and hide"]) {
    const button = page.getByText(label, { exact: true });
    if (await button.count()) await button.first().click();
  }
  // The patient's name: in the header's patient panel, opened.
  await page.getByText("Patient", { exact: true }).first().click();
  await page.getByText(/CompressedSamples/).first().waitFor();
  await page.screenshot({ path: join(screenshots, "ohif-viewer-ct.png") });
});
