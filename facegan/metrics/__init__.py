"""How good the faces are: FID/KID against real faces (fid.py), and the outside judges of aging (judges.py)."""
