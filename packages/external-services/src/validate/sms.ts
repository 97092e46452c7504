// SMS encoding and segments (sms-segments-calculator: GSM-7 with its extension table, else UCS-2).
// GSM-7: 160 characters in one message, 153 per part when split; the extension characters
// ^ { } \ [ ~ ] | € count double. UCS-2: 70, or 67 per part. Providers bill per segment.
import { SegmentedMessage } from "sms-segments-calculator";

export interface SmsShape {
  encoding: "GSM-7" | "UCS-2";
  segments: number;
  /** Characters as the encoding counts them (septets for GSM-7, UTF-16 code units for UCS-2). */
  units: number;
  /** What still fits in the last segment. */
  remainingInSegment: number;
  /** The characters that forced UCS-2 (empty for GSM-7). */
  nonGsm: string[];
}

/** Providers refuse longer concatenations; most handsets show 10 parts at most. */
export const MAX_SEGMENTS = 10;

export function smsShape(text: string): SmsShape {
  const m = new SegmentedMessage(text);
  const encoding = m.getEncodingName() === "GSM-7" ? "GSM-7" : "UCS-2";
  const segments = m.segmentsCount;
  const perPart = encoding === "GSM-7" ? (segments > 1 ? 153 : 160) : segments > 1 ? 67 : 70;
  const units = m.messageSize / (encoding === "GSM-7" ? 7 : 16);
  const nonGsm = encoding === "UCS-2" ? [...new Set(m.getNonGsmCharacters())] : [];
  return { encoding, segments, units, remainingInSegment: segments * perPart - units, nonGsm };
}
