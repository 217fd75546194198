/**
 * Capability vocabularies of a few deployments. The miner is given none of this: it must find the
 * patterns in whatever names the records hold.
 */

export interface Deployment {
  name: string;
  /** Capabilities that read from a domain (the first step of a chain). */
  sources: string[];
  /** The others, in an order that makes sense for chains. */
  steps: string[];
  /** Domains most traffic goes to. */
  domains: string[];
  /** Error codes the noise draws from. */
  codes: string[];
}

export const DEPLOYMENTS: Deployment[] = [
  {
    name: "builtin",
    sources: ["fetch"],
    steps: ["extract_text", "find_mentions", "summarize", "compute"],
    domains: ["en.wikipedia.org", "news.example.com", "docs.example.org", "blog.example.net", "data.example.gov", "archive.example.io", "wiki.example.de", "press.example.fr"],
    codes: ["HTTP_404", "HTTP_500", "HTTP_502", "TIMEOUT", "PARSE_ERROR", "DNS_FAILURE", "TOO_LARGE", "HTTP_403"],
  },
  {
    name: "media",
    sources: ["download"],
    steps: ["extract_audio", "segment_audio", "detect_speech", "transcribe", "translate", "summarize"],
    domains: ["youtube.com", "vimeo.com", "soundcloud.com", "podcasts.example.com", "media.example.org", "archive.example.net", "radio.example.fm", "clips.example.tv"],
    codes: ["HTTP_404", "HTTP_500", "TIMEOUT", "UNSUPPORTED_FORMAT", "DECODE_ERROR", "GEO_BLOCKED", "TOO_LARGE", "CODEC_MISSING"],
  },
  {
    name: "docs",
    sources: ["fetch_doc"],
    steps: ["parse_pdf", "ocr", "extract_tables", "classify", "index_doc", "summarize"],
    domains: ["sec.example.gov", "reports.example.com", "papers.example.org", "filings.example.net", "library.example.edu", "registry.example.eu", "stats.example.int", "courts.example.us"],
    codes: ["HTTP_404", "HTTP_500", "TIMEOUT", "CORRUPT_PDF", "OCR_FAILED", "ENCRYPTED", "TOO_LARGE", "HTTP_401"],
  },
];

/** Planted failure codes: the kind of thing a host does again and again. */
export const PLANTED_CODES = ["HTTP_429", "HTTP_503", "TIMEOUT", "HTTP_403", "QUOTA_EXCEEDED"];

/** How often planted patterns occur: from once to hundreds of times. */
export const OCCURRENCES = [1, 2, 3, 4, 5, 6, 8, 12, 20, 50, 100, 300];
