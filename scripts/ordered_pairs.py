"""Ordered numeric pairs (no real row has a > b, ranges overlap) and what enforcing them on a
DP file's sample would do, with the true pairs from the real rows as an oracle (docs/quality.md,
stop 56): the share of synthetic rows breaking one, and scripts/quality.py's figures as
sampled, with the pair swapped in breaking rows, and with those rows dropped. Run from the
repository root on a table under target/quality whose generic ε 3 file exists.

    target/ctgan-venv/bin/python scripts/ordered_pairs.py TABLE"""
import pandas as pd, numpy as np, sys, os, glob, subprocess
t=sys.argv[1]; d=f'target/quality/{t}/'
fs=[f for f in sorted(glob.glob(d+'generic-eps3-e20-b1000*.csv'),key=os.path.getmtime) if 'pair_sel' not in f]
r=pd.read_csv(d+'train.csv'); s=pd.read_csv(fs[-1])
def num(df,c):
    x=pd.to_numeric(df[c],errors='coerce')
    return x
cols=[c for c in r.columns if pd.to_numeric(r[c],errors='coerce').notna().mean()>0.5 and r[c].nunique()>2]
lo=r[cols].apply(pd.to_numeric,errors='coerce')
pairs=[]
for a in cols:
    for b in cols:
        if a==b: continue
        xa,xb=lo[a],lo[b]; both=xa.notna()&xb.notna()
        if both.sum()<50: continue
        # overlapping ranges only
        if xa.max()<xb.min() or xb.max()<xa.min(): continue
        if (xa[both]>xb[both]).sum()==0 and (xa[both]<xb[both]).mean()>0.05:
            pairs.append((a,b))
print(t, len(pairs),'ordered overlapping pairs:', pairs[:12])
sw=s.copy(); 
for rep in range(4):
    for a,b in pairs:
        xa,xb=pd.to_numeric(sw[a],errors='coerce'),pd.to_numeric(sw[b],errors='coerce')
        v=xa>xb
        tmp=sw.loc[v,a].copy(); sw.loc[v,a]=sw.loc[v,b]; sw.loc[v,b]=tmp
keep=np.ones(len(s),bool)
for a,b in pairs:
    keep&=~(pd.to_numeric(s[a],errors='coerce')>pd.to_numeric(s[b],errors='coerce')).to_numpy()
print('violating rows', 1-keep.mean())
rj=s[keep]
sw.to_csv('/tmp/ordered_pairs_sw.csv',index=False); rj.to_csv('/tmp/ordered_pairs_rj.csv',index=False)
for name,f in [('asis',fs[-1]),('swap','/tmp/ordered_pairs_sw.csv'),('reject','/tmp/ordered_pairs_rj.csv')]:
    out=subprocess.run(['target/ctgan-venv/bin/python','scripts/quality.py','score',t,d+'train.csv',d+'holdout.csv',f],capture_output=True,text=True).stdout
    print(name,' | '.join(l for l in out.splitlines() if l.startswith('quality') or l.startswith('HGB')))
