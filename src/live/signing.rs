//! Signed stream addresses, the anti-leech scheme of Tencent Cloud CSS (and most
//! Chinese CDNs): an address carries `txTime`, its expiry as upper-case hex Unix
//! seconds, and `txSecret = md5(key + streamName + txTime)` in lower-case hex. The CDN
//! holds the same keys and refuses an address whose secret does not match or whose
//! time has passed. Push and play have keys of their own; each may have a backup key
//! that the CDN (and [`DomainKeys::verify`]) still accepts while keys rotate.

use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

use crate::config::{LiveConfig, Secret};

/// `txTime`: the expiry as upper-case hexadecimal Unix seconds.
pub fn tx_time(expires_at: DateTime<Utc>) -> String {
    format!("{:X}", expires_at.timestamp().max(0))
}

/// `txSecret = md5(key + streamName + txTime)`, lower-case hex.
pub fn tx_secret(key: &str, stream_name: &str, tx_time: &str) -> String {
    let mut hasher = Md5::new();
    hasher.update(key.as_bytes());
    hasher.update(stream_name.as_bytes());
    hasher.update(tx_time.as_bytes());
    hex::encode(hasher.finalize())
}

/// One domain's keys: the primary signs, the backup is still accepted.
#[derive(Debug, Clone, Default)]
pub struct DomainKeys {
    primary: Option<Secret>,
    backup: Option<Secret>,
}

impl DomainKeys {
    /// Keys of a domain; with no primary key addresses go unsigned (the CDN's
    /// authentication is then off).
    pub fn new(primary: Option<Secret>, backup: Option<Secret>) -> Self {
        DomainKeys { primary, backup }
    }

    /// The query string that signs `stream_name` until `expires_at` (empty when the
    /// domain has no key).
    pub fn query(&self, stream_name: &str, expires_at: DateTime<Utc>) -> String {
        match &self.primary {
            Some(key) => {
                let time = tx_time(expires_at);
                let secret = tx_secret(key.expose(), stream_name, &time);
                format!("?txSecret={secret}&txTime={time}")
            }
            None => String::new(),
        }
    }

    /// Whether `tx_secret` and `tx_time` sign `stream_name` under the primary or the
    /// backup key and have not expired at `now`: the check the CDN makes.
    pub fn verify(
        &self,
        stream_name: &str,
        tx_secret_given: &str,
        tx_time_given: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let Ok(expiry) = i64::from_str_radix(tx_time_given, 16) else {
            return false;
        };
        if expiry < now.timestamp() {
            return false;
        }
        [&self.primary, &self.backup]
            .into_iter()
            .flatten()
            .any(|key| {
                tx_secret(key.expose(), stream_name, tx_time_given)
                    .eq_ignore_ascii_case(tx_secret_given)
            })
    }
}

/// The addresses a viewer plays, in every form a client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayUrls {
    /// RTMP, for the mini-program `live-player`.
    pub rtmp: String,
    /// HTTP-FLV, for the mini-program `live-player`.
    pub flv: String,
    /// HLS, for H5 pages (Safari, WeChat's browser).
    pub hls: String,
    /// WebRTC (`webrtc://`), low-latency H5 playback.
    pub webrtc: String,
    /// When the signatures stop being accepted.
    pub expires_at: DateTime<Utc>,
}

/// A creator's push address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushUrl {
    /// The RTMP address to give OBS or the mini-program `live-pusher`.
    pub url: String,
    /// When the signature stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Builds signed addresses from the live configuration.
#[derive(Debug, Clone)]
pub struct StreamSigner {
    push_domain: String,
    play_domain: String,
    app_name: String,
    push: DomainKeys,
    play: DomainKeys,
    push_ttl: chrono::Duration,
    play_ttl: chrono::Duration,
}

impl StreamSigner {
    /// The signer the configuration describes.
    pub fn new(config: &LiveConfig) -> Self {
        let seconds =
            |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000).max(60));
        StreamSigner {
            push_domain: config.live_push_domain.clone(),
            play_domain: config.live_play_domain.clone(),
            app_name: config.live_app_name.clone(),
            push: DomainKeys::new(
                config.live_push_key.clone(),
                config.live_push_backup_key.clone(),
            ),
            play: DomainKeys::new(
                config.live_play_key.clone(),
                config.live_play_backup_key.clone(),
            ),
            push_ttl: seconds(config.live_push_ttl_secs),
            play_ttl: seconds(config.live_play_ttl_secs),
        }
    }

    /// The push domain's keys.
    pub fn push_keys(&self) -> &DomainKeys {
        &self.push
    }

    /// The play domain's keys.
    pub fn play_keys(&self) -> &DomainKeys {
        &self.play
    }

    /// Whether both domains sign their addresses.
    pub fn signs(&self) -> bool {
        self.push.primary.is_some() && self.play.primary.is_some()
    }

    /// The RTMP push address of a stream, valid for the push lifetime from `now`.
    pub fn push_url(&self, stream_name: &str, now: DateTime<Utc>) -> PushUrl {
        let expires_at = now + self.push_ttl;
        let query = self.push.query(stream_name, expires_at);
        PushUrl {
            url: format!(
                "rtmp://{}/{}/{stream_name}{query}",
                self.push_domain, self.app_name
            ),
            expires_at,
        }
    }

    /// The play addresses of a stream, valid for the play lifetime from `now`.
    pub fn play_urls(&self, stream_name: &str, now: DateTime<Utc>) -> PlayUrls {
        let expires_at = now + self.play_ttl;
        let query = self.play.query(stream_name, expires_at);
        let (domain, app) = (&self.play_domain, &self.app_name);
        PlayUrls {
            rtmp: format!("rtmp://{domain}/{app}/{stream_name}{query}"),
            flv: format!("https://{domain}/{app}/{stream_name}.flv{query}"),
            hls: format!("https://{domain}/{app}/{stream_name}.m3u8{query}"),
            webrtc: format!("webrtc://{domain}/{app}/{stream_name}{query}"),
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Tencent Cloud's documented example: key `e12c46f2612d5106e2034781ab261ca3`,
    /// stream `test`, txTime `5C271099` (2018-12-29 06:13:45 UTC) give
    /// `f85a2ab363fe4deaffef9754d79da6fe`.
    #[test]
    fn the_signature_matches_the_documented_example() {
        let key = "e12c46f2612d5106e2034781ab261ca3";
        let expires = Utc
            .timestamp_opt(0x5C27_1099, 0)
            .single()
            .expect("a valid time");
        assert_eq!(tx_time(expires), "5C271099");
        assert_eq!(
            tx_secret(key, "test", "5C271099"),
            "f85a2ab363fe4deaffef9754d79da6fe"
        );
        // The same digest computed here, from the concatenated text.
        let independent = hex::encode(Md5::digest(format!("{key}test5C271099").as_bytes()));
        assert_eq!(independent, "f85a2ab363fe4deaffef9754d79da6fe");
    }

    fn config() -> LiveConfig {
        LiveConfig {
            live_push_domain: "push.example.com".into(),
            live_play_domain: "play.example.com".into(),
            live_push_key: Some(Secret::new("push-primary")),
            live_push_backup_key: Some(Secret::new("push-backup")),
            live_play_key: Some(Secret::new("play-primary")),
            ..LiveConfig::default()
        }
    }

    #[test]
    fn push_and_play_are_signed_with_their_own_keys() {
        let signer = StreamSigner::new(&config());
        let now = Utc
            .with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .single()
            .expect("a valid time");
        let push = signer.push_url("zk7_abc", now);
        let time = tx_time(now + chrono::Duration::seconds(86_400));
        let secret = tx_secret("push-primary", "zk7_abc", &time);
        assert_eq!(
            push.url,
            format!("rtmp://push.example.com/live/zk7_abc?txSecret={secret}&txTime={time}")
        );
        let play = signer.play_urls("zk7_abc", now);
        let time = tx_time(now + chrono::Duration::seconds(7_200));
        let secret = tx_secret("play-primary", "zk7_abc", &time);
        assert_eq!(
            play.flv,
            format!("https://play.example.com/live/zk7_abc.flv?txSecret={secret}&txTime={time}")
        );
        assert!(play.hls.contains(".m3u8?txSecret="));
        assert!(
            play.webrtc
                .starts_with("webrtc://play.example.com/live/zk7_abc?")
        );
        assert!(
            play.rtmp
                .starts_with("rtmp://play.example.com/live/zk7_abc?")
        );
    }

    #[test]
    fn the_backup_key_is_accepted_and_expiry_is_enforced() {
        let signer = StreamSigner::new(&config());
        let now = Utc
            .with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .single()
            .expect("a valid time");
        let time = tx_time(now + chrono::Duration::hours(1));
        let keys = signer.push_keys();
        let by_backup = tx_secret("push-backup", "zk7_abc", &time);
        assert!(keys.verify("zk7_abc", &by_backup, &time, now));
        let by_primary = tx_secret("push-primary", "zk7_abc", &time);
        assert!(keys.verify("zk7_abc", &by_primary, &time, now));
        assert!(
            !keys.verify("zk8_abc", &by_primary, &time, now),
            "another stream"
        );
        let by_play_key = tx_secret("play-primary", "zk7_abc", &time);
        assert!(
            !keys.verify("zk7_abc", &by_play_key, &time, now),
            "the play key does not push"
        );
        assert!(
            !keys.verify(
                "zk7_abc",
                &by_primary,
                &time,
                now + chrono::Duration::hours(2)
            ),
            "expired"
        );
    }

    #[test]
    fn without_keys_addresses_are_unsigned() {
        let signer = StreamSigner::new(&LiveConfig::default());
        let now = Utc::now();
        assert!(!signer.signs());
        assert_eq!(
            signer.push_url("zk1_x", now).url,
            "rtmp://push.live.zhiku.localhost/live/zk1_x"
        );
    }
}
