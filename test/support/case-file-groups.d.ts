/** The names a group file passes to `runCaseFiles([...])`, or null when it makes no such call. */
export declare function caseFilesOf(groupFile: string): string[] | null;
