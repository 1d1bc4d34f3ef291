//! Follows an HTTP/1 request head through the bytes a connection reads, to refuse a head
//! the HTTP parser would refuse with a bare status and no body: a request line longer than
//! the URI limit allows (the parser answers 414 only past 64 KiB), or more header lines
//! than Herald accepts (the parser's own header table is kept small, since it is allocated
//! for every request). The connection layer answers these as problem+json instead.

use super::error::ApiError;
use super::head_limits::{MAX_HEADERS, MAX_URI_BYTES};

/// The longest request line: the URI limit, the method and the version.
pub const MAX_REQUEST_LINE: usize = MAX_URI_BYTES + 64;

/// Where the scan is inside one head.
#[derive(Debug, Default)]
pub struct HeadScan {
    /// Lines of the head ended so far (the request line is the first).
    lines: usize,
    /// Bytes of the current line so far, `\r` not counted.
    line: usize,
}

impl HeadScan {
    /// Reads `fresh`; answers `Ok(true)` when the head ended within it, and the refusal
    /// when the head breaks a limit.
    pub fn read(&mut self, fresh: &[u8]) -> Result<bool, ApiError> {
        for byte in fresh {
            match byte {
                b'\n' if self.line == 0 && self.lines > 0 => return Ok(true),
                b'\n' => {
                    self.lines += 1;
                    self.line = 0;
                    if self.lines > MAX_HEADERS + 1 {
                        return Err(ApiError::HeadersTooLarge(format!(
                            "the request has more than {MAX_HEADERS} header fields"
                        )));
                    }
                }
                b'\r' => {}
                _ => {
                    self.line += 1;
                    if self.lines == 0 && self.line > MAX_REQUEST_LINE {
                        return Err(ApiError::UriTooLong(format!(
                            "the request line is over {MAX_REQUEST_LINE} bytes; the URI limit is {MAX_URI_BYTES} bytes"
                        )));
                    }
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_followed_across_reads_until_its_blank_line() {
        let mut scan = HeadScan::default();
        assert!(!scan.read(b"GET /a").expect("fine"));
        assert!(!scan.read(b"b HTTP/1.1\r\nHost: x\r").expect("fine"));
        assert!(scan.read(b"\n\r\n{\"body\": 1}").expect("ends"));
    }

    #[test]
    fn long_request_lines_and_many_headers_are_refused() {
        let mut scan = HeadScan::default();
        let err = scan
            .read(&vec![b'a'; MAX_REQUEST_LINE + 1])
            .expect_err("long");
        assert!(matches!(err, ApiError::UriTooLong(_)));

        let mut scan = HeadScan::default();
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            head.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        assert!(!scan.read(&head).expect("at the limit"));
        let err = scan.read(b"x-last: v\r\n").expect_err("one more");
        assert!(matches!(err, ApiError::HeadersTooLarge(_)));

        // A long header line is the middleware's to judge, not the scan's.
        let mut scan = HeadScan::default();
        let mut head = b"GET / HTTP/1.1\r\nx-big: ".to_vec();
        head.extend_from_slice(&vec![b'a'; 1_000_000]);
        assert!(scan.read(&head).is_ok());
    }
}
