//! MPEG audio checks shared by the sandbox tests.

/// Seconds of MPEG Layer III audio (frames walked, ID3 tag skipped).
pub fn mp3_seconds(bytes: &[u8]) -> f64 {
    let mut pos = 0;
    if bytes.starts_with(b"ID3") {
        pos = 10
            + bytes[6..10]
                .iter()
                .fold(0usize, |acc, b| (acc << 7) | usize::from(*b));
    }
    let mut seconds = 0.0;
    while pos < bytes.len() {
        let h = &bytes[pos..pos + 4];
        assert!(h[0] == 0xFF && h[1] & 0xE0 == 0xE0, "frame sync at {pos}");
        let version = (h[1] >> 3) & 3;
        assert_eq!((h[1] >> 1) & 3, 1, "Layer III");
        let rate = match version {
            3 => [44100, 48000, 32000],
            2 => [22050, 24000, 16000],
            _ => [11025, 12000, 8000],
        }[usize::from((h[2] >> 2) & 3)];
        let kbps = if version == 3 {
            [
                0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ]
        } else {
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
        }[usize::from(h[2] >> 4)];
        let (coef, samples) = if version == 3 { (144, 1152) } else { (72, 576) };
        pos += coef * kbps * 1000 / rate + usize::from((h[2] >> 1) & 1);
        seconds += samples as f64 / rate as f64;
    }
    assert_eq!(pos, bytes.len(), "the last frame ends the file");
    seconds
}
