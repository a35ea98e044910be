"""Realistic examples of the secret formats people paste into a consultation (all values are made up).

Each entry: (name, the text a user would paste, the substrings that must never survive masking).
"""

from __future__ import annotations

AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"

SECRET_FORMATS: list[tuple[str, str, tuple[str, ...]]] = [
    ("aws key id AKIA", f"our deploy user is {AWS_ID} and it gets AccessDenied on s3", (AWS_ID,)),
    ("aws key id ASIA", "temporary creds ASIAY34FZKBOKMUTVV7A expire after an hour", ("ASIAY34FZKBOKMUTVV7A",)),
    ("aws secret in prose next to the key id",
     f"the key is {AWS_ID} with secret {AWS_SECRET}, why does boto3 say signature mismatch?", (AWS_ID, AWS_SECRET)),
    ("aws secret in JSON", f'{{"AccessKeyId": "{AWS_ID}", "SecretAccessKey": "{AWS_SECRET}"}}', (AWS_ID, AWS_SECRET)),
    ("aws secret in YAML", f"aws:\n  access_key_id: {AWS_ID}\n  secret_access_key: {AWS_SECRET}\n",
     (AWS_ID, AWS_SECRET)),
    ("aws secret after export with a space", f"export AWS_SECRET_ACCESS_KEY {AWS_SECRET}", (AWS_SECRET,)),
    ("aws secret in credentials file", f"[default]\naws_secret_access_key = {AWS_SECRET}", (AWS_SECRET,)),
    ("postgres DSN with @ / : in the password",
     "DATABASE_URL=postgres://app:p@ss/w:rd!9@db.internal:5432/orders is slow", ("p@ss/w:rd!9", "p@ss", "w:rd!9")),
    ("mysql DSN", "mysql+pymysql://root:Tr0ub4dor&3@10.0.3.4:3306/shop?charset=utf8mb4", ("Tr0ub4dor&3",)),
    ("redis DSN without a user", "REDIS_URL=redis://:9xQ2vL7pZ3@cache:6379/0", ("9xQ2vL7pZ3",)),
    ("libpq password=", "psql 'host=db.internal port=5432 user=app password=s3cr@t/pa:ss dbname=orders'",
     ("s3cr@t/pa:ss", "s3cr@t")),
    ("libpq quoted password with spaces", "conninfo: host=db user=app password='correct horse battery' sslmode=require",
     ("correct horse battery", "horse battery")),
    ("slack bot token", "SLACK_BOT_TOKEN=xoxb-2412456789012-5523456789012-Ab3dEfGhIjKlMnOpQrStUvWx",
     ("xoxb-2412456789012-5523456789012-Ab3dEfGhIjKlMnOpQrStUvWx", "Ab3dEfGhIjKlMnOpQrStUvWx")),
    ("slack user token", "client = WebClient(token='xoxp-1234567890-1234567890-1234567890-abcdef0123456789abcdef01')",
     ("abcdef0123456789abcdef01",)),
    ("slack legacy xoxa", "xoxa-2-1234567890-9876543210-abcdefABCDEF123456", ("abcdefABCDEF123456",)),
    ("slack refresh token xoxe", "refresh with xoxe-1-My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MC1hYmNkZWY",
     ("My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MC1hYmNkZWY",)),
    ("slack rotating xoxe.xoxp", "token: xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtNjc4OTAxMjM0NTY3",
     ("Mi0yLTEyMzQ1Njc4OTAtNjc4OTAxMjM0NTY3",)),
    ("slack app token", "SLACK_APP_TOKEN=xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f6a7b8c9d",
     ("0a1b2c3d4e5f6a7b8c9d",)),
    ("slack webhook URL", "we post alerts to https://hooks.slack.com/services/T0ABCDEF1/B0GHIJKL2/xYz123AbC456dEf789GhI012",
     ("xYz123AbC456dEf789GhI012", "T0ABCDEF1/B0GHIJKL2")),
    ("github classic PAT", "git clone https://ghp_R8tXk2Lm9Qw3Ez7Yu1Io5Pa4Sd6Fg0Hj2Kl8@github.com/acme/api.git",
     ("ghp_R8tXk2Lm9Qw3Ez7Yu1Io5Pa4Sd6Fg0Hj2Kl8", "R8tXk2Lm9Qw3Ez7Yu1Io5Pa4Sd6Fg0Hj2Kl8")),
    ("github oauth/user/server/refresh tokens",
     "gho_16C7e42F292c6912E7710c838347Ae178B4a ghu_16C7e42F292c6912E7710c838347Ae178B4b "
     "ghs_16C7e42F292c6912E7710c838347Ae178B4c ghr_16C7e42F292c6912E7710c838347Ae178B4d",
     ("16C7e42F292c6912E7710c838347Ae178B4a", "16C7e42F292c6912E7710c838347Ae178B4b",
      "16C7e42F292c6912E7710c838347Ae178B4c", "16C7e42F292c6912E7710c838347Ae178B4d")),
    ("github fine-grained PAT",
     "GH_TOKEN github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",
     ("mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",)),
    ("openai key", "OPENAI_API_KEY sk-4fQ9Zr2Lx8Wc1Vb7Nm3Kj6Hg5Fd0Sa9Pq2Rt", ("4fQ9Zr2Lx8Wc1Vb7Nm3Kj6Hg5Fd0Sa9Pq2Rt",)),
    ("openai project key", "client = OpenAI(api_key=\"sk-proj-Xy12Ab34Cd56Ef78Gh90Ij12Kl34Mn56Op78Qr90St\")",
     ("Xy12Ab34Cd56Ef78Gh90Ij12Kl34Mn56Op78Qr90St",)),
    ("anthropic key", "ANTHROPIC_API_KEY: sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEf_123456",
     ("Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEf_123456",)),
    ("stripe live secret key", "Stripe.api_key = sk_live_51HqLyjWDarjtT1zdp7dcXgYk4qRzE8d1", ("51HqLyjWDarjtT1zdp7dcXgYk4qRzE8d1",)),
    ("stripe test and restricted keys", "sk_test_4eC39HqLyjWDarjtT1zdp7dc rk_live_51HqLyjWDarjtT1zdp7dcRk",
     ("4eC39HqLyjWDarjtT1zdp7dc", "51HqLyjWDarjtT1zdp7dcRk")),
    ("stripe webhook secret", "endpoint_secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'",
     ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",)),
    ("google API key", "maps url ?key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY in the frontend",
     ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "9tSrke72PouQMnMX")),
    ("azure storage AccountKey",
     "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu"
     "Fq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
     ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu", "KBHBeksoGMGw==")),
    ("azure service bus SharedAccessKey",
     "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
     "SharedAccessKey=Qm9ndXNLZXlGb3JUZXN0aW5nT25seTEyMzQ1Njc4OTA=",
     ("Qm9ndXNLZXlGb3JUZXN0aW5nT25seTEyMzQ1Njc4OTA",)),
    ("azure SharedAccessSignature and sig=",
     "BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl"
     "&se=2026-12-31T00:00:00Z&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg%3D",
     ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",)),
    ("SAS URL with sig", "curl 'https://acme.blob.core.windows.net/exports/q3.csv?sv=2022-11-02&sp=r&sig=dGhpc2lzYXNp"
     "Z25hdHVyZXRoYXRpc3NlY3JldA%3D%3D'", ("dGhpc2lzYXNpZ25hdHVyZXRoYXRpc3NlY3JldA",)),
    ("URL token parameter", "GET https://api.acme.io/v1/export?format=csv&token=tk_9f8e7d6c5b4a3f2e1d0c&page=2",
     ("tk_9f8e7d6c5b4a3f2e1d0c", "9f8e7d6c5b4a3f2e1d0c")),
    ("bare JWT", f"the session cookie is {JWT} and it never expires", (JWT, JWT.split(".")[2])),
    ("JWT after Bearer", f"Authorization: Bearer {JWT}", (JWT.split(".")[1],)),
    ("PEM private key", f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----", (PEM_BODY,)),
    ("PEM private key in a code fence, unterminated",
     f"here is the key:\n```\n-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n```\nwhy does TLS fail?", (PEM_BODY,)),
    ("PEM in JSON with escaped newlines",
     f'{{"private_key": "-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n-----END PRIVATE KEY-----\\n"}}', (PEM_BODY,)),
    ("JSON password", '{"db": {"user": "app", "password": "Summer2024!x"}}', ("Summer2024!x",)),
    ("YAML secret", "database:\n  username: app\n  password: Y3ll0wSubm@rine\n", ("Y3ll0wSubm@rine",)),
    (".env file", "DB_PASSWORD=qwe123Rty\nJWT_SECRET=f3a9c1e7b2d4\nSTRIPE_API_KEY=abc", ("qwe123Rty", "f3a9c1e7b2d4")),
    ("key=value api_key and client_secret", "oauth client_id=acme-web client_secret=9Zk-Lq8~Wm7.Vn6 api_key = 'a1b2c3d4e5'",
     ("9Zk-Lq8~Wm7.Vn6", "a1b2c3d4e5")),
    ("password in URL query", "jdbc:postgresql://db:5432/app?user=app&password=Pa55w0rd-2026&ssl=true",
     ("Pa55w0rd-2026",)),
    ("basic auth header", "Authorization: Basic YWRtaW46c3VwZXJzZWNyZXQ=", ("YWRtaW46c3VwZXJzZWNyZXQ",)),
    ("twilio API key and auth token", "TWILIO_API_KEY=SK2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d TWILIO_AUTH_TOKEN=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
     ("2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")),
    ("twilio SK key in prose", "twilio key SK0123456789abcdef0123456789abcdef leaked", ("0123456789abcdef0123456789abcdef",)),
    ("sendgrid key", "sg = SendGridAPIClient('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')",
     ("ngeVfQFYQlKU0ufo8x5d1A", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr")),
    ("npm token", "//registry.npmjs.org/:_authToken=npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", ("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",)),
    ("npm token in prose", "NPM publish used npm_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2", ("Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",)),
    ("pypi token", "TWINE_PASSWORD is pypi-AgEIcHlwaS5vcmcCJGE0ZjQ5NDU0LWUzYjYtNDFhNy1iNGE0LTdmOGJjNGQ1ZTZmNwACKlszLCJ",
     ("AgEIcHlwaS5vcmcCJGE0ZjQ5NDU0LWUzYjYtNDFhNy1iNGE0LTdmOGJjNGQ1ZTZmNwACKlszLCJ",)),
    ("gitlab token", "CI uses glpat-xR4sT9uV2wY5zA8bC1dE", ("xR4sT9uV2wY5zA8bC1dE",)),
    ("google oauth client secret", "client_secret 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", ("1a2B3c4D5e6F7g8H9i0J1k2L3m4N",)),
]

# Text that looks technical but holds no secret: masking must leave it exactly as it is.
ORDINARY_TEXTS = [
    "SELECT * FROM orders WHERE id = $1; the password column is hashed with bcrypt",
    "commit 3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a fixed the N+1 on /orders",
    "set max_tokens: 512 and temperature 0.2; we use bearer tokens for the API",
    "the user id is 3fa85f64-5717-4562-b3fc-2c963f66afa6 and the table has 40M rows",
    "password: ${DB_PASSWORD} comes from the environment",
    "postgres://db.internal:5432/orders has no credentials in it",
]
