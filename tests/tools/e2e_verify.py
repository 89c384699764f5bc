"""Checks signet's tokens with python3-jwt, code signet did not write.

Run with Debian's /usr/bin/python3 (python3-jwt, python3-cryptography):

  e2e_verify.py jwt-svid JWKS_URL CA_FILE TOKEN SUB AUD
  e2e_verify.py access-token JWKS_URL CA_FILE TOKEN SUB AUD CLIENT_ID ISS ACTOR...

The JWKS is fetched over HTTPS, checking signetd's certificate against CA_FILE. Exits 0 when
the token verifies and its claims are what was asked for; prints why and exits 1 otherwise.
"""
import json
import ssl
import sys
import urllib.request

import jwt


def fetch_jwks(url, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return json.load(response)


def key_for(token, jwks):
    kid = jwt.get_unverified_header(token)["kid"]
    for jwk in jwks["keys"]:
        if jwk.get("kid") == kid:
            return jwt.PyJWK(jwk).key
    raise SystemExit(f"no key with kid {kid!r} in the JWKS")


def expect(what, got, want):
    if got != want:
        raise SystemExit(f"{what}: got {got!r}, want {want!r}")


def check_jwt_svid(url, ca_file, token, sub, aud):
    header = jwt.get_unverified_header(token)
    expect("typ", header.get("typ"), "JWT")
    claims = jwt.decode(token, key_for(token, fetch_jwks(url, ca_file)), algorithms=["ES256"],
                        audience=aud, options={"require": ["sub", "aud", "exp", "iat"]})
    expect("sub", claims["sub"], sub)


def check_access_token(url, ca_file, token, sub, aud, client_id, iss, actors):
    header = jwt.get_unverified_header(token)
    expect("typ", header.get("typ"), "at+jwt")
    claims = jwt.decode(token, key_for(token, fetch_jwks(url, ca_file)), algorithms=["ES256"],
                        audience=aud, issuer=iss,
                        options={"require": ["sub", "aud", "exp", "iat", "jti"]})
    expect("sub", claims["sub"], sub)
    expect("client_id", claims["client_id"], client_id)

    # The outermost act is the current actor; each nested act is the one before it.
    act = claims.get("act")
    for i, actor in enumerate(actors):
        if not isinstance(act, dict):
            raise SystemExit(f"act level {i}: missing in {claims.get('act')!r}")
        expect(f"act level {i} sub", act.get("sub"), actor)
        act = act.get("act")
    if act is not None:
        raise SystemExit(f"act chain longer than asked: {claims['act']!r}")


def main(argv):
    kind = argv[1]
    if kind == "jwt-svid":
        check_jwt_svid(*argv[2:7])
    elif kind == "access-token":
        check_access_token(*argv[2:9], argv[9:])
    else:
        raise SystemExit(f"unknown check {kind!r}")
    print(f"{kind}: verified")


if __name__ == "__main__":
    main(sys.argv)
