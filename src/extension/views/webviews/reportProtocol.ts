/**
 * The report view's messages (webview ↔ host), validated on both sides.
 * No `vscode` import: the webview bundles it.
 */
import { z } from 'zod';
import { ReadySchema, StatusSchema, type ViewProtocol } from '../../../webviewProtocol';
import { ReportViewDataSchema } from '../../../engine/report/viewData';

export const REPORT_VIEW_TYPE = 'tracelift.report';

export const ReportRestoreSchema = z.object({ runDirs: z.array(z.string()).min(1) });
export type ReportRestore = z.infer<typeof ReportRestoreSchema>;

export const reportProtocol = {
  requests: {
    /** A sample of the chart, in the inspector (the host accepts only samples of the report's runs). */
    openSample: { params: z.object({ runDir: z.string(), problemId: z.string(), sampleId: z.string() }), result: z.null() },
  },
  toHost: { ready: ReadySchema },
  toWebview: {
    init: z.object({ restore: ReportRestoreSchema, title: z.string() }),
    report: ReportViewDataSchema,
    status: StatusSchema,
  },
} satisfies ViewProtocol;
export type ReportProtocol = typeof reportProtocol;
