#!/usr/bin/env python3
"""A local OpenID Federation for the relying party's integration tests.

One Django process on 127.0.0.1 (free port) built on the `spid-cie-oidc`
package (see requirements.txt): a Trust Anchor at http://127.0.0.1:PORT and
a SPID OpenID Provider at http://127.0.0.1:PORT/oidc/op, a subordinate of
the Trust Anchor.

    python3 tests/federation/federation.py --users JSON [--require-trust-marks]

--users maps a fiscal code to {"given_name", "family_name", "password"};
the username is the fiscal code (upper case), the fiscal_number claim is
TINIT-<code>.
--require-trust-marks makes the provider accept only relying parties whose
own Entity Configuration carries the sp-public trust mark (by default it
requires none).

Stdout carries JSON lines only, everything else goes to stderr. First:
    {"trust_anchor": URL, "provider": URL, "trust_anchor_jwks": {"keys": [...]}}
then one answer per command read from stdin:
    onboard <entity id>  -> {"ok": true, "trust_marks": [{"id", "trust_mark"}]}
    events               -> {"ok": true, "events": [...], "counts": {...}}
(or {"ok": false, "error": text}). `onboard` fetches the relying party's
Entity Configuration (it must name the Trust Anchor in authority_hints),
makes it a subordinate with the sp-public profile and, unless trust marks
are required, builds the provider's trust chain for it at once; send it
again after the relying party changes its keys. The events, in order:
authorization, login, login:error, consent, consent:error, consent:denied,
token, token:private_key_jwt, token:error:<error or status>, userinfo,
userinfo:error:<status>, revocation, revocation:error:<error>,
end_session, end_session:error, fetch:<sub>.
Exits when stdin closes, on SIGTERM or SIGINT.

The package's provider serves authorization, token, userinfo and
revocation as it is; end_session_endpoint (RP-initiated logout, which the
package lacks) is ours; plain OIDC discovery
(/oidc/op/.well-known/openid-configuration) is switched off, so the trust
chain is the only way to the provider's metadata.

When the package is not importable and tests/federation/.venv exists, the
script runs itself again with that environment's Python (the package needs
pydantic<2 and Django<5, so it is best kept out of the system Python):
    python3 -m venv tests/federation/.venv
    tests/federation/.venv/bin/pip install -r tests/federation/requirements.txt
"""

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
TMP_PREFIX = "sigillo-federation-"

FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"
SP_PUBLIC = "https://www.spid.gov.it/openid-federation/agreement/sp-public"
OP_PUBLIC = "https://www.spid.gov.it/openid-federation/agreement/op-public"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

log = logging.getLogger("federation")


def ensure_package():
    """Re-executes under tests/federation/.venv when the package is missing."""
    try:
        import spid_cie_oidc  # noqa: F401
        return
    except ImportError:
        pass
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit(
        "spid-cie-oidc is not installed: python3 -m venv tests/federation/.venv && "
        "tests/federation/.venv/bin/pip install -r tests/federation/requirements.txt"
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="{}", help="JSON: fiscal code -> names and password")
    parser.add_argument("--require-trust-marks", action="store_true")
    args = parser.parse_args()
    users = json.loads(args.users)
    if not isinstance(users, dict):
        parser.error("--users must be a JSON object")
    return args, users


def sweep_stale_dirs():
    """Removes the temporary folders of runs that were killed."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        if not name.startswith(TMP_PREFIX):
            continue
        try:
            pid = int(name[len(TMP_PREFIX):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except (ValueError, PermissionError):
            pass


# ---------------------------------------------------------------------------
# What the provider did, for the `events` command.

class Events:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, name):
        with self.lock:
            self.items.append(name)

    def snapshot(self):
        with self.lock:
            return list(self.items)


EVENTS = Events()


class EventsMiddleware:
    """Records the provider's endpoints as they answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        name = match.url_name if match else None
        status = response.status_code
        if name == "oidc_provider_authnrequest":
            if request.method == "GET" and "request" in request.GET:
                EVENTS.add("authorization")
            elif request.method == "POST":
                EVENTS.add("login" if status == 302 else "login:error")
        elif name == "oidc_provider_consent" and request.method == "POST":
            EVENTS.add("consent" if "code=" in response.get("Location", "") else "consent:error")
        elif name == "oidc_provider_not_consent":
            EVENTS.add("consent:denied")
        elif name == "oidc_provider_token_endpoint" and request.method == "POST":
            EVENTS.add("token")
            if request.POST.get("client_assertion_type") == CLIENT_ASSERTION_TYPE:
                EVENTS.add("token:private_key_jwt")
            if status >= 400:
                EVENTS.add(f"token:error:{error_code(response)}")
        elif name == "oidc_provider_userinfo_endpoint":
            EVENTS.add("userinfo" if status == 200 else f"userinfo:error:{status}")
        # The package names its revocation endpoint so.
        elif name == "oidc_provider_end_session_endpoint" and request.method == "POST":
            EVENTS.add("revocation" if status == 200 else f"revocation:error:{error_code(response)}")
        elif name == "federation_end_session":
            EVENTS.add("end_session" if status < 400 else "end_session:error")
        elif name == "oidcfed_fetch":
            EVENTS.add(f"fetch:{request.GET.get('sub', '')}")
        return response


def error_code(response):
    try:
        return json.loads(response.content).get("error") or response.status_code
    except Exception:
        return response.status_code


# ---------------------------------------------------------------------------
# Django settings.

def configure(base, tmp, require_trust_marks):
    import aiohttp

    # The package turns timestamps into naive local times and then reads
    # them in TIME_ZONE: both must agree (a settings module would do this).
    os.environ["TZ"] = "Europe/Rome"
    time.tzset()
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF="sigillo_federation_site",
        INSTALLED_APPS=[
            "spid_cie_oidc.accounts",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "spid_cie_oidc.entity",
            "spid_cie_oidc.authority",
            "spid_cie_oidc.provider",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "sigillo_federation_site.EventsMiddleware",
        ],
        TEMPLATES=[{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            # Our stand-in for bootstrap-italia-base.html comes first.
            "DIRS": [os.path.join(HERE, "templates")],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]},
        }],
        DATABASES={"default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tmp, "federation.sqlite3"),
            "OPTIONS": {"timeout": 30},
        }},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AUTH_USER_MODEL="spid_cie_oidc_accounts.User",
        # Test accounts only: a fast hash keeps startup and logins quick.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The relying party shares the host 127.0.0.1: keep our cookies apart.
        SESSION_COOKIE_NAME="federation_op_session",
        CSRF_COOKIE_NAME="federation_op_csrftoken",
        LANGUAGE_CODE="it-it",
        TIME_ZONE="Europe/Rome",
        USE_I18N=True,
        USE_TZ=True,
        STATIC_URL="/static/",
        APPEND_SLASH=False,
        # spid-cie-oidc
        OIDCFED_DEFAULT_TRUST_ANCHOR=base,
        OIDCFED_TRUST_ANCHORS=[base],
        OIDCFED_PROVIDER_PROFILE="spid",
        OIDCFED_REQUIRED_TRUST_MARKS=[SP_PUBLIC] if require_trust_marks else [],
        OIDCFED_PROVIDER_SALT=secrets.token_hex(16),
        DEFAULT_JWE_ALG="RSA-OAEP-256",
        DEFAULT_JWE_ENC="A256CBC-HS512",
        HTTPC_PARAMS={
            "connection": {"ssl": False},
            "session": {"timeout": aiohttp.ClientTimeout(total=10)},
        },
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "federation %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
            }},
            "root": {"handlers": ["stderr"], "level": "WARNING"},
            "loggers": {
                "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                "django.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "spid_cie_oidc": {"level": "INFO"},
                "federation": {"level": "INFO"},
            },
        },
    )


# ---------------------------------------------------------------------------
# The entities.

def new_key():
    from spid_cie_oidc.entity.jwks import create_jwk
    jwk = create_jwk()
    jwk["use"] = "sig"
    return jwk


def public_key(jwk):
    from spid_cie_oidc.entity.jwks import public_jwk_from_private_jwk
    return public_jwk_from_private_jwk(jwk)


def provider_metadata(op, core_key):
    signing = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
    encryption = ["RSA-OAEP", "RSA-OAEP-256"]
    content = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"]
    return {
        "issuer": op,
        "authorization_endpoint": f"{op}/authorization",
        "token_endpoint": f"{op}/token",
        "userinfo_endpoint": f"{op}/userinfo",
        "introspection_endpoint": f"{op}/introspection",
        "revocation_endpoint": f"{op}/revocation",
        "end_session_endpoint": f"{op}/end_session",
        "jwks": {"keys": [public_key(core_key)]},
        "organization_name": "SPID OP di prova",
        "op_policy_uri": f"{op}/policy",
        "logo_uri": f"{op}/logo.svg",
        "scopes_supported": ["openid", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "acr_values_supported": [
            "https://www.spid.gov.it/SpidL1",
            "https://www.spid.gov.it/SpidL2",
            "https://www.spid.gov.it/SpidL3",
        ],
        "subject_types_supported": ["pairwise"],
        "claims_parameter_supported": True,
        "claims_supported": [
            "given_name", "family_name", "email", "gender", "birthdate",
            "place_of_birth", "phone_number", "address", "document_details",
            FISCAL_NUMBER,
        ],
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "code_challenge_methods_supported": ["S256"],
        "client_registration_types_supported": ["automatic"],
        "request_authentication_methods_supported": {"authorization_endpoint": ["request_object"]},
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": signing,
        "request_object_signing_alg_values_supported": signing,
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["RS256"],
        "userinfo_encryption_alg_values_supported": encryption,
        "userinfo_encryption_enc_values_supported": content,
        "id_token_encryption_alg_values_supported": encryption,
        "id_token_encryption_enc_values_supported": content,
        "request_object_encryption_alg_values_supported": encryption,
        "request_object_encryption_enc_values_supported": content,
    }


def bootstrap(base, op, users):
    from spid_cie_oidc.accounts.models import User
    from spid_cie_oidc.authority.models import (
        FederationDescendant,
        FederationEntityAssignedProfile,
        FederationEntityProfile,
    )
    from spid_cie_oidc.entity.models import FederationEntityConfiguration
    from spid_cie_oidc.entity.validators import validate_entity_metadata, validate_metadata_algs

    # The Trust Anchor first: the package takes the first configuration with
    # federation_entity metadata as "self" when it signs subordinate statements.
    ta = FederationEntityConfiguration.objects.create(
        sub=base,
        default_exp=2880,
        default_signature_alg="RS256",
        entity_type="federation_entity",
        jwks_fed=[new_key()],
        jwks_core=[new_key()],
        trust_mark_issuers={SP_PUBLIC: [base], OP_PUBLIC: [base]},
        constraints={"max_path_length": 1},
        metadata={"federation_entity": {
            "organization_name": "Trust Anchor di prova",
            "homepage_uri": base,
            "contacts": ["ops@trust-anchor.example.it"],
            "federation_fetch_endpoint": f"{base}/fetch",
            "federation_list_endpoint": f"{base}/list",
            "federation_resolve_endpoint": f"{base}/resolve",
            "federation_trust_mark_status_endpoint": f"{base}/trust_mark_status",
        }},
        is_active=True,
    )

    core_key = new_key()
    op_metadata = {
        "federation_entity": {
            "organization_name": "SPID OP di prova",
            "homepage_uri": op,
            "contacts": ["ops@op.example.it"],
        },
        "openid_provider": provider_metadata(op, core_key),
    }
    validate_entity_metadata(op_metadata)
    validate_metadata_algs(op_metadata)
    op_conf = FederationEntityConfiguration.objects.create(
        sub=op,
        default_exp=2880,
        default_signature_alg="RS256",
        entity_type="openid_provider",
        authority_hints=[base],
        jwks_fed=[new_key()],
        jwks_core=[core_key],
        metadata=op_metadata,
        is_active=True,
    )

    sp_public = FederationEntityProfile.objects.create(
        name="SPID Public SP",
        profile_category="openid_relying_party",
        profile_id=SP_PUBLIC,
        trust_mark_template={"id": SP_PUBLIC, "organization_type": "public"},
    )
    op_public = FederationEntityProfile.objects.create(
        name="SPID Public OP",
        profile_category="openid_provider",
        profile_id=OP_PUBLIC,
        trust_mark_template={"id": OP_PUBLIC, "organization_type": "public"},
    )

    op_desc = FederationDescendant.objects.create(
        sub=op,
        name="SPID OP di prova",
        type="openid_provider",
        jwks=op_conf.public_jwks,
        status="valid",
        is_active=True,
    )
    assigned = FederationEntityAssignedProfile.objects.create(
        descendant=op_desc, profile=op_public, issuer=ta
    )
    op_conf.trust_marks = [{"id": OP_PUBLIC, "trust_mark": assigned.trust_mark_as_jws}]
    op_conf.save()

    for code, person in users.items():
        code = code.strip().upper()
        user = User(
            username=code,
            first_name=person.get("given_name"),
            last_name=person.get("family_name"),
            attributes={
                FISCAL_NUMBER: f"TINIT-{code}",
                "given_name": person.get("given_name"),
                "family_name": person.get("family_name"),
            },
        )
        user.set_password(person.get("password") or code)
        user.save()
    return ta, op_conf, sp_public


# ---------------------------------------------------------------------------
# A view added to the package's, which has none: RP-initiated logout.

def make_views(op):
    from django.contrib.auth import logout
    from django.http import HttpResponse, HttpResponseRedirect
    from django.utils.html import escape
    from django.views.decorators.csrf import csrf_exempt
    from spid_cie_oidc.entity.jwtse import unpad_jwt_head, unpad_jwt_payload, verify_jws
    from spid_cie_oidc.entity.models import FederationEntityConfiguration, TrustChain

    def issuer():
        return FederationEntityConfiguration.objects.get(sub=op, is_active=True)

    def client_chain(client_id):
        return TrustChain.objects.filter(
            sub=client_id, metadata__openid_relying_party__isnull=False, is_active=True
        ).first()

    def page(status, text):
        body = (
            '<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>Logout</title></head>'
            f"<body><main><h1>{escape(text)}</h1></main></body></html>"
        )
        return HttpResponse(body, status=status)

    @csrf_exempt
    def end_session(request):
        params = request.POST if request.method == "POST" else request.GET
        hint = params.get("id_token_hint")
        client_id = params.get("client_id")
        redirect = params.get("post_logout_redirect_uri")
        state = params.get("state")
        if hint:
            conf = issuer()
            try:
                kid = unpad_jwt_head(hint).get("kid")
                key = next((k for k in conf.jwks_core if k.get("kid") == kid), None)
                if key is None:
                    raise ValueError("unknown kid")
                verify_jws(hint, key)
                payload = unpad_jwt_payload(hint)
            except Exception as error:
                log.warning("end_session: id_token_hint refused: %s", error)
                return page(400, "id_token_hint non valido")
            audiences = payload.get("aud") or []
            audiences = [audiences] if isinstance(audiences, str) else audiences
            if payload.get("iss") != conf.sub or (client_id and client_id not in audiences):
                return page(400, "id_token_hint non valido")
            client_id = client_id or (audiences[0] if audiences else None)
        logout(request)
        if redirect:
            chain = client_chain(client_id) if (hint and client_id) else None
            allowed = chain.metadata["openid_relying_party"].get("post_logout_redirect_uris", []) if chain else []
            if redirect not in allowed:
                log.warning("end_session: post_logout_redirect_uri not registered: %s", redirect)
                return page(400, "post_logout_redirect_uri non registrato")
            if state:
                sep = "&" if "?" in redirect else "?"
                redirect = f"{redirect}{sep}{urllib.parse.urlencode({'state': state})}"
            return HttpResponseRedirect(redirect)
        return page(200, "Sei uscito")

    return end_session


def urlpatterns_for(op):
    from django.http import Http404
    from django.urls import path
    from spid_cie_oidc.authority.urls import urlpatterns as authority_urls
    from spid_cie_oidc.entity.urls import urlpatterns as entity_urls
    from spid_cie_oidc.entity.views import entity_configuration
    from spid_cie_oidc.provider.urls import urlpatterns as provider_urls

    end_session = make_views(op)

    def not_found(request):
        raise Http404()

    # Ours first: the first match wins.
    patterns = [
        # The package also serves plain OIDC discovery; the federation is the
        # only way to the provider's metadata here.
        path("oidc/op/.well-known/openid-configuration", not_found),
        path("oidc/op/end_session", end_session, name="federation_end_session"),
        path("oidc/op/.well-known/openid-federation", entity_configuration, name="op_entity_configuration"),
    ]
    patterns += entity_urls + authority_urls + provider_urls
    return patterns


# ---------------------------------------------------------------------------
# Commands.

def onboard(base, entity_id, sp_public, require_trust_marks):
    from django.conf import settings
    from spid_cie_oidc.authority.models import FederationDescendant, FederationEntityAssignedProfile
    from spid_cie_oidc.authority.validators import validate_entity_configuration
    from spid_cie_oidc.entity.models import FederationEntityConfiguration
    from spid_cie_oidc.entity.trust_chain_operations import get_or_create_trust_chain

    # Fetches the Entity Configuration, checks its signature and that it
    # names this Trust Anchor in authority_hints.
    ec = validate_entity_configuration(entity_id)
    if ec.sub != entity_id:
        raise ValueError(f"the Entity Configuration is about {ec.sub}, not {entity_id}")
    rp = ec.payload.get("metadata", {}).get("openid_relying_party")
    if not rp:
        raise ValueError("no openid_relying_party metadata")
    name = (rp.get("client_name") or entity_id)[:33]
    descendant, _ = FederationDescendant.objects.update_or_create(
        sub=entity_id,
        defaults=dict(name=name, type="openid_relying_party", jwks=ec.jwks, status="valid", is_active=True),
    )
    ta = FederationEntityConfiguration.objects.get(sub=base)
    assigned, _ = FederationEntityAssignedProfile.objects.get_or_create(
        descendant=descendant, profile=sp_public, issuer=ta
    )
    if require_trust_marks:
        # The relying party must publish it before the provider sees it.
        return [{"id": SP_PUBLIC, "trust_mark": assigned.trust_mark_as_jws}]
    # Builds the provider's trust chain now, so a problem shows here.
    get_or_create_trust_chain(
        subject=entity_id,
        trust_anchor=base,
        httpc_params=settings.HTTPC_PARAMS,
        required_trust_marks=settings.OIDCFED_REQUIRED_TRUST_MARKS,
        force=True,
    )
    return []


def counts():
    from spid_cie_oidc.entity.models import TrustChain
    from spid_cie_oidc.provider.models import IssuedToken, OidcSession

    return {
        "authorizations": OidcSession.objects.count(),
        "tokens_issued": IssuedToken.objects.count(),
        "sessions_revoked": OidcSession.objects.filter(revoked=True).count(),
        "trust_chains": sorted(TrustChain.objects.values_list("sub", flat=True)),
    }


# ---------------------------------------------------------------------------

def main():
    ensure_package()
    args, users = parse_args()

    # Only protocol lines reach the real stdout.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(value):
        out.write(json.dumps(value) + "\n")
        out.flush()

    started = time.monotonic()
    sweep_stale_dirs()
    tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    httpd = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    port = httpd.server_address[1]
    base = f"http://127.0.0.1:{port}"
    op = f"{base}/oidc/op"

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    serving = None
    try:
        configure(base, tmp, args.require_trust_marks)
        site = types.ModuleType("sigillo_federation_site")
        site.EventsMiddleware = EventsMiddleware
        sys.modules[site.__name__] = site

        import django
        django.setup()
        from django.core.management import call_command

        site.urlpatterns = urlpatterns_for(op)
        call_command("migrate", interactive=False, verbosity=0, skip_checks=True)
        ta, op_conf, sp_public = bootstrap(base, op, users)

        from django.conf import settings
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.wsgi import get_wsgi_application
        from spid_cie_oidc.entity.trust_chain_operations import get_or_create_trust_chain

        httpd.set_app(StaticFilesHandler(get_wsgi_application()))
        serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        serving.start()

        # The provider through the Trust Anchor, as a relying party sees it:
        # checks the federation and fills the resolve endpoint's cache.
        get_or_create_trust_chain(
            subject=op, trust_anchor=base, httpc_params=settings.HTTPC_PARAMS, force=True
        )
        log.info("ready in %.1f s at %s", time.monotonic() - started, base)
        answer({
            "trust_anchor": base,
            "provider": op,
            "trust_anchor_jwks": {"keys": ta.public_jwks},
        })

        for line in iter(sys.stdin.readline, ""):
            words = line.split()
            if not words:
                continue
            try:
                if words[0] == "onboard" and len(words) == 2:
                    marks = onboard(base, words[1], sp_public, args.require_trust_marks)
                    log.info("onboarded %s", words[1])
                    answer({"ok": True, "trust_marks": marks})
                elif words[0] == "events" and len(words) == 1:
                    answer({"ok": True, "events": EVENTS.snapshot(), "counts": counts()})
                else:
                    answer({"ok": False, "error": f"unknown command: {line.strip()}"})
            except Exception as error:
                log.exception("command %s failed", words[0])
                answer({"ok": False, "error": f"{type(error).__name__}: {error}"})
    finally:
        if serving is not None:
            httpd.shutdown()
        httpd.server_close()
        try:
            from django.db import connections
            connections.close_all()
        except Exception:
            pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
