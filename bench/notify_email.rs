//! Scenario E of the notify benchmark (issue 13): e-mail delivered through a fake SMTP server,
//! the rate with connection reuse, and a step's latency with e-mail on and off.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt as _, BufReader};

use super::*;

struct SmtpState {
    delay: Duration,
    arrivals: Mutex<Vec<Instant>>,
    connections: AtomicU64,
}

/// A fake SMTP server: accepts everything, answering each message `delay` after its data.
struct SmtpFake {
    port: u16,
    state: Arc<SmtpState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(socket: tokio::net::TcpStream, state: Arc<SmtpState>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 fake ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-fake\r\n250 8BITMIME\r\n",
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                }
                state
                    .arrivals
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Instant::now());
                tokio::time::sleep(state.delay).await;
                b"250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 OK\r\n",
        };
        write.write_all(reply).await?;
    }
}

impl SmtpFake {
    async fn start(delay: Duration) -> R<SmtpFake> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context(|| "cannot start the fake SMTP server".into())?;
        let port = listener
            .local_addr()
            .context(|| "the fake SMTP server's address".into())?
            .port();
        let state = Arc::new(SmtpState {
            delay,
            arrivals: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(session(socket, shared.clone()));
            }
        });
        Ok(SmtpFake { port, state, task })
    }

    fn arrivals(&self) -> Vec<Instant> {
        let mut v = self
            .state
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        v.sort();
        v
    }

    fn count(&self) -> usize {
        self.state
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }
}

async fn email_count(api: &Api, admin: &User, status: &str) -> R<i64> {
    let path = format!("/api/notifications/?notification_type=EMAIL&status={status}");
    let v = api.ok(Method::GET, &path, &admin.token, None).await?;
    v["count"]
        .as_i64()
        .ok_or_else(|| format!("GET {path} answered without a count: {v}"))
}

pub(super) struct EResult {
    pub rate: f64,
    pub emails: usize,
    pub connections: u64,
    /// Step p50 and p99.
    pub on: (Duration, Duration),
    pub off: (Duration, Duration),
}

/// `specs`' people, with e-mail addresses when `addresses`, WhatsApp numbers when `numbers`.
fn email_specs(admins: usize, devs: usize, addresses: bool, numbers: bool) -> Vec<Spec> {
    let mut v = specs(admins, devs);
    for s in &mut v {
        if addresses {
            s.email = format!("{}@example.com", s.username);
        }
        if !numbers {
            s.number.clear();
        }
    }
    v
}

pub(super) async fn scenario_e(b: &Bench, engine: Engine) -> R<EResult> {
    let emails = env_usize("BENCH_EMAILS", 4000)?.max(10) / 10 * 10;
    let smtp = SmtpFake::start(Duration::from_millis(50)).await?;
    let env = ServerEnv {
        smtp_port: Some(smtp.port),
        ..UNCAPPED
    };
    println!(
        "E1 drain {emails} queued e-mails; fake SMTP answers each message 50 ms after its data; {}",
        env.describe()
    );
    let twilio = Fake::start(Duration::ZERO).await?;
    let tickets = emails / 10;
    let (rate, connections) = b
        .with_database(engine, "e1", &email_specs(10, 0, true, false), async |db| {
            let off = ServerEnv {
                worker: false,
                ..env
            };
            b.with_server(db, &twilio, off, "e1", async |srv| {
                let api = srv.api.clone();
                let cast = login_cast(&api, 0).await?;
                create_tickets(&api, &cast.client, tickets, 16).await?;
                let pending = email_count(&api, &cast.admin, "PENDING").await?;
                println!("   queued {pending} e-mail rows ({tickets} tickets x 10 admins) with the worker off");
                if pending != emails as i64 {
                    return Err(format!("expected {emails} PENDING e-mails, found {pending}"));
                }
                Ok(())
            })
            .await?;
            b.with_server(db, &twilio, env, "e1", async |srv| {
                poll(srv, Duration::from_millis(10), Duration::from_secs(240), async || {
                    let got = smtp.count();
                    Ok(if got >= emails {
                        Ok(())
                    } else {
                        Err(format!("the fake SMTP server received {got} of {emails} e-mails"))
                    })
                })
                .await?;
                let api = srv.api.clone();
                let admin = api.login("admin1").await?;
                let failed = email_count(&api, &admin, "FAILED").await?;
                if failed > 0 {
                    return Err(format!("{failed} e-mail rows FAILED"));
                }
                let arrivals = smtp.arrivals();
                let r = rate(&arrivals);
                println!(
                    "   {} e-mails: {r:.0} e-mails/s (arrivals, first to last: {}); {} SMTP connections opened (reused across messages)",
                    arrivals.len(),
                    secs(span(&arrivals)),
                    smtp.connections()
                );
                Ok((r, smtp.connections()))
            })
            .await
        })
        .await?;

    let workflows = env_usize("BENCH_EMAIL_WORKFLOWS", 50)?;
    let mut figures = Vec::new();
    for on in [true, false] {
        let env = ServerEnv {
            smtp_port: on.then_some(smtp.port),
            ..UNCAPPED
        };
        println!(
            "E2 {workflows} sequential workflows x 8 steps, e-mail {}; 2 admins, 1 client, 2 developers; {}",
            if on { "on (every user has an address)" } else { "off (no addresses, no EMAIL_HOST)" },
            env.describe()
        );
        let tag = if on { "e2on" } else { "e2off" };
        let lat = b
            .with_database(engine, tag, &email_specs(2, 2, on, true), async |db| {
                b.with_server(db, &twilio, env, tag, async |srv| {
                    let api = srv.api.clone();
                    let cast = login_cast(&api, 2).await?;
                    let mut all = Vec::new();
                    for i in 0..workflows {
                        workflow(&api, &cast, i as u64, |_, _, took| {
                            all.push(took);
                            true
                        })
                        .await?;
                    }
                    all.sort();
                    let sent = if on {
                        api.wait_no_pending(
                            &cast.admin,
                            srv,
                            Duration::from_millis(20),
                            Duration::from_secs(60),
                        )
                        .await?;
                        poll(
                            srv,
                            Duration::from_millis(20),
                            Duration::from_secs(60),
                            async || {
                                let n = email_count(&api, &cast.admin, "PENDING").await?;
                                Ok(if n == 0 {
                                    Ok(())
                                } else {
                                    Err(format!("{n} e-mails PENDING"))
                                })
                            },
                        )
                        .await?;
                        email_count(&api, &cast.admin, "SENT").await?
                    } else {
                        email_count(&api, &cast.admin, "SENT").await?
                            + email_count(&api, &cast.admin, "FAILED").await?
                    };
                    let (p50, p99) = (percentile(&all, 0.5), percentile(&all, 0.99));
                    println!(
                        "   {} steps: p50 {}, p99 {}; e-mail rows: {sent}",
                        all.len(),
                        ms(p50),
                        ms(p99)
                    );
                    Ok((p50, p99))
                })
                .await
            })
            .await?;
        figures.push(lat);
    }
    Ok(EResult {
        rate,
        emails,
        connections,
        on: figures[0],
        off: figures[1],
    })
}
