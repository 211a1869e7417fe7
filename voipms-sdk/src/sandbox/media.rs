//! Small, valid audio files for recordings and voicemail messages.
//!
//! VoIP.ms hands out real audio (MP3 call recordings, voicemail in MP3/WAV/WAV49/GSM). The sandbox
//! builds short silent files whose headers are correct, so a client that checks the format, or
//! plays the file, sees something real. They are built on demand (a few kilobytes) instead of being
//! stored in the state.

/// Silent MPEG-1 Layer III audio, mono, 32 kHz, 32 kbit/s: an ID3v2.3 tag with a title, then
/// `frames` frames of 144 bytes (36 ms each).
pub(crate) fn mp3(frames: usize, title: &str) -> Vec<u8> {
    let mut out = id3v2_tag(title);
    out.reserve(frames * MP3_FRAME_LEN);
    for _ in 0..frames {
        out.extend_from_slice(&MP3_FRAME_HEADER);
        // Side information (17 bytes for mono MPEG-1) all zero: main_data_begin 0, part2_3_length
        // 0 and big_values 0 in both granules, which decodes as digital silence. The rest of the
        // frame is unused main data.
        out.resize(out.len() + MP3_FRAME_LEN - MP3_FRAME_HEADER.len(), 0);
    }
    out
}

/// Frame sync (11 bits), MPEG-1, Layer III, no CRC | 32 kbit/s, 32 kHz, no padding | mono, original.
pub(crate) const MP3_FRAME_HEADER: [u8; 4] = [0xFF, 0xFB, 0x18, 0xC4];
/// 144 × bitrate / sample rate = 144 bytes.
pub(crate) const MP3_FRAME_LEN: usize = 144;
/// Frames per second of audio (1152 samples per frame at 32 kHz), rounded up.
pub(crate) const MP3_FRAMES_PER_SECOND: usize = 28;

fn id3v2_tag(title: &str) -> Vec<u8> {
    // TIT2 frame: encoding byte 0 (ISO-8859-1) + text. Keep the text ASCII.
    let text: Vec<u8> = title.bytes().filter(u8::is_ascii).collect();
    let frame_size = text.len() + 1;
    let tag_size = 10 + frame_size;
    let mut out = Vec::with_capacity(10 + tag_size);
    out.extend_from_slice(b"ID3\x03\x00\x00");
    out.extend_from_slice(&syncsafe(tag_size as u32));
    out.extend_from_slice(b"TIT2");
    out.extend_from_slice(&(frame_size as u32).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&text);
    out
}

fn syncsafe(n: u32) -> [u8; 4] {
    [
        ((n >> 21) & 0x7F) as u8,
        ((n >> 14) & 0x7F) as u8,
        ((n >> 7) & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]
}

/// Silent PCM WAV: 8 kHz, 16-bit, mono.
pub(crate) fn wav(seconds: u32) -> Vec<u8> {
    let samples = 8000 * seconds;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(out.len() + data_len as usize, 0);
    out
}

/// GSM 6.10 in a WAV container ("WAV49", format tag 0x31): 65-byte blocks of 320 samples.
pub(crate) fn wav49(seconds: u32) -> Vec<u8> {
    let blocks = 25 * seconds; // 8000 samples/s ÷ 320 samples per block
    let data_len = blocks * 65;
    let mut out = Vec::with_capacity(60 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(52 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&20u32.to_le_bytes());
    out.extend_from_slice(&0x31u16.to_le_bytes()); // WAVE_FORMAT_GSM610
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&1625u32.to_le_bytes());
    out.extend_from_slice(&65u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // extra format bytes
    out.extend_from_slice(&320u16.to_le_bytes()); // samples per block
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(blocks * 320).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(out.len() + data_len as usize, 0);
    out
}

/// Raw GSM 6.10: 33-byte frames of 20 ms, each starting with the 0xD signature nibble.
pub(crate) fn gsm(seconds: u32) -> Vec<u8> {
    let frames = 50 * seconds;
    let mut out = Vec::with_capacity(frames as usize * 33);
    for _ in 0..frames {
        out.push(0xD0);
        out.extend_from_slice(&[0u8; 32]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the MP3 frames the way a decoder finds them; returns the frame count.
    fn count_frames(bytes: &[u8]) -> usize {
        assert_eq!(&bytes[..3], b"ID3");
        let size = bytes[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(*b));
        let mut pos = 10 + size;
        let mut frames = 0;
        while pos < bytes.len() {
            let h = &bytes[pos..pos + 4];
            assert_eq!(h[0], 0xFF, "frame sync at {pos}");
            assert_eq!(h[1] & 0xE0, 0xE0, "frame sync at {pos}");
            assert_eq!((h[1] >> 3) & 0b11, 0b11, "MPEG-1");
            assert_eq!((h[1] >> 1) & 0b11, 0b01, "Layer III");
            let bitrate_kbps = [
                0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ][usize::from(h[2] >> 4)];
            let rate = [44100, 48000, 32000][usize::from((h[2] >> 2) & 0b11)];
            let padding = usize::from((h[2] >> 1) & 1);
            let len = 144 * bitrate_kbps * 1000 / rate + padding;
            pos += len;
            frames += 1;
        }
        assert_eq!(pos, bytes.len());
        frames
    }

    #[test]
    fn mp3_frames_are_valid() {
        let bytes = mp3(28, "test");
        assert_eq!(count_frames(&bytes), 28);
    }

    #[test]
    fn wav_headers() {
        let w = wav(1);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        assert_eq!(w.len(), 44 + 16000);
        let g = wav49(1);
        assert_eq!(u16::from_le_bytes([g[20], g[21]]), 0x31);
        assert_eq!(
            u32::from_le_bytes([g[4], g[5], g[6], g[7]]) as usize,
            g.len() - 8
        );
        let raw = gsm(1);
        assert_eq!(raw.len(), 50 * 33);
        assert!(raw.chunks(33).all(|f| f[0] >> 4 == 0xD));
    }
}
