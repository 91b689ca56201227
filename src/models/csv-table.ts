/**
 * A CSV file as a table of strings: RFC 4180 (quoted fields, doubled quotes, CRLF, line breaks inside
 * quotes) parsed by csv-parse, with the header, the line each record starts on, and R's row names
 * recognised and set aside: a first header cell that is empty (`write.csv`: `"","x","y"`) or a header
 * one cell shorter than every record (`write.table`) marks a leading index column, which is dropped.
 */
import { parse } from 'csv-parse/sync';
import { ValidationError, formatValue } from './validate.js';

export interface CsvTable {
  /** column names (trimmed), without an index column */
  header: string[];
  /** the records' cells (trimmed, unquoted), without an index column */
  rows: string[][];
  /** 1-based line on which each record starts (the header is on line 1) */
  lines: number[];
  /** whether a leading index column (row names) was dropped */
  indexColumn: boolean;
  /** the header line's cells as written (for messages) */
  headerCells: string[];
}

interface CsvParseError {
  code?: string;
  lines?: number;
  message: string;
}

/** csv-parse's message without its own "at line N …" tail (the line comes first in ours). */
function reason(e: CsvParseError): string {
  const first = e.message.split(':')[0] ?? e.message;
  return first.trim();
}

/** The 1-based line of the quote that is still open at the end of `text` (a doubled quote "" toggles twice), or undefined. */
function unclosedQuoteLine(text: string): number | undefined {
  let open = false;
  let opened = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 34) {
      open = !open;
      if (open) opened = line;
    }
  }
  return open ? opened : undefined;
}

/**
 * Parses CSV text into a {@link CsvTable}.
 * @param source name used in messages (usually the path)
 * @throws ValidationError naming the line: malformed quoting, an empty row, a record whose number of
 *   cells differs from the header's, duplicate or empty column names
 */
export function parseCsvTable(text: string, source: string): CsvTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, trim: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as CsvParseError;
    // csv-parse reports where it stopped (the end of the file): name the line the unclosed quote opened on
    const at = err.code === 'CSV_QUOTE_NOT_CLOSED' ? (unclosedQuoteLine(text) ?? err.lines) : err.lines;
    const line = typeof at === 'number' ? `line ${at}: ` : '';
    throw new ValidationError(`${source}: ${line}malformed CSV (${reason(err)})`, line === '' ? source : `line ${at}`);
  }
  const isEmpty = (r: string[]) => r.length === 1 && r[0] === '';
  // trailing newlines are allowed; empty lines inside are not
  while (records.length > 0 && isEmpty(records[records.length - 1]!.record)) records.pop();
  if (records.length === 0)
    throw new ValidationError(`${source}: empty file (expected a header line of column names)`, source);
  const starts: number[] = [];
  let prevEnd = 0;
  for (const r of records) {
    starts.push(prevEnd + 1);
    prevEnd = r.info.lines;
  }
  let header = records[0]!.record;
  // one column whose name holds a ';' or a tab: another separator (R's write.csv2, a spreadsheet's export)
  const sep = header.length === 1 ? /[;\t]/.exec(header[0]!)?.[0] : undefined;
  if (sep !== undefined)
    throw new ValidationError(
      `${source}: line 1: the file looks ${sep === ';' ? "';'" : 'tab'}-separated (header ${formatValue(header[0])}); gmoe reads comma-separated CSV with a decimal point: write it with commas (R: write.csv, not write.csv2)`,
      'header',
      header[0],
    );
  const body = records.slice(1);
  const lines = starts.slice(1);
  const cols = header.length;
  const widths = new Set(body.map((r) => r.record.length));
  const indexColumn = header[0] === '' || (body.length > 0 && widths.size === 1 && body[0]!.record.length === cols + 1);
  const width = header[0] === '' ? cols : indexColumn ? cols + 1 : cols;
  const rows: string[][] = new Array(body.length);
  for (let i = 0; i < body.length; i++) {
    const cells = body[i]!.record;
    if (isEmpty(cells) && width > 1)
      throw new ValidationError(`${source}: line ${lines[i]}: empty row`, `line ${lines[i]}`);
    if (cells.length !== width) {
      const names = indexColumn && header[0] !== '' ? ['(row names)', ...header] : header;
      throw new ValidationError(
        `${source}: line ${lines[i]}: expected ${width} columns (${names.join(',')}), found ${cells.length}`,
        `line ${lines[i]}`,
        cells.join(','),
      );
    }
    rows[i] = indexColumn ? cells.slice(1) : cells;
  }
  if (header[0] === '') header = header.slice(1);
  return { header, rows, lines, indexColumn, headerCells: records[0]!.record };
}

/**
 * Refuses a chosen column without a name or whose name appears twice (which of the two is meant?); columns not
 * chosen may be anything (an Excel file's trailing comma, a repeated name the fit does not use).
 */
export function checkColumnNames(table: CsvTable, chosen: readonly number[], source: string): void {
  const { header, indexColumn, headerCells } = table;
  for (const c of chosen) {
    const name = header[c]!;
    if (name === '')
      throw new ValidationError(
        `${source}: line 1: column ${c + 1 + (indexColumn ? 1 : 0)} has no name. Value: ${formatValue(headerCells.join(','))}`,
        'header',
      );
    if (header.indexOf(name) !== header.lastIndexOf(name))
      throw new ValidationError(`${source}: line 1: column name ${formatValue(name)} appears twice`, 'header', name);
  }
}
