"""Noisy pair tables shrunk towards independence, simulated on a table's real pair tables
(docs/quality.md, stop 56): for each discrete pair of a DP file, the contingency similarity to
the real rows of the released table, of the synthetic rows, and of five simulated releases at
the file's noise std: raw (projected), the product of margins, James-Stein shrinkage and a
garrote at 2 and 3 deviations.

    DPSYNTH inspect --json FILE > H.json
    target/ctgan-venv/bin/python scripts/pair_shrink.py H.json TRAIN.csv SYNTH.csv NOISE_STD"""
import json, sys, numpy as np, pandas as pd
hjson, train, synth, std = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
h=json.load(open(hjson)); t=h['transformer']; names=[c['name'] for c in t['schema']['columns']]
P=h['pairs']; states=P['states']
tr=pd.read_csv(train, dtype=str, keep_default_na=False); sy=pd.read_csv(synth, dtype=str, keep_default_na=False)
N=len(tr)
def slotmap(e):
    d=e.get('Discrete')
    if d is None: return None
    m={}; other=None; miss=None
    for i,s in enumerate(d['slots']):
        if isinstance(s,dict) and 'Value' in s: m[str(s['Value'])]=i
        elif s=='Other': other=i
        else: miss=i
    return m,other,miss,len(d['slots'])
maps=[slotmap(e) for e in t['encoders']]
def codes(df,c):
    m,other,miss,n=maps[c]
    col=df[names[c]]
    out=[]
    for v in col:
        if v in m: out.append(m[v])
        elif v=='' and miss is not None: out.append(miss)
        elif other is not None: out.append(other)
        else: out.append(-1)
    return np.array(out)
def table(df,a,b):
    ca,cb=codes(df,a),codes(df,b); T=np.zeros((states[a],states[b]))
    ok=(ca>=0)&(cb>=0); np.add.at(T,(ca[ok],cb[ok]),1); return T/ max(T.sum(),1)
def proj(x,total):
    s=np.sort(x)[::-1]; cs=np.cumsum(s); k=np.arange(1,len(s)+1); t=(cs-total)/k
    idx=np.where(s-t>0)[0][-1]; return np.maximum(x-t[idx],0)
def indep(T):
    return np.outer(T.sum(1),T.sum(0))/T.sum()
def js(T,std):
    I=indep(T); R=T-I; df=(T.shape[0]-1)*(T.shape[1]-1); D=(R**2).sum()
    w=max(0,1-df*std**2/D) if D>0 else 0; return I+w*R, w
def garrote(T,std,tau):
    I=indep(T); R=T-I; thr=(tau*std)**2
    Rs=R*np.maximum(0,1-thr/np.maximum(R**2,1e-300)); return I+Rs
rng=np.random.default_rng(0)
tv=lambda a,b: 0.5*np.abs(a/a.sum()-b/b.sum()).sum()
rows=[]
for (a,b),tab in zip(P['pairs'],P['tables']):
    if maps[a] is None or maps[b] is None: continue
    real=table(tr,a,b); syn=table(sy,a,b); rel=np.array(tab).reshape(states[a],states[b])
    X=real*N; res={'raw':[], 'ind':[], 'js':[], 'g2':[], 'g3':[]}; ws=[]
    for rep in range(5):
        T=X+rng.normal(0,std,X.shape)
        res['raw'].append(tv(proj(T.ravel(),N).reshape(T.shape),X))
        res['ind'].append(tv(proj(indep(T).ravel(),N).reshape(T.shape),X))
        J,w=js(T,std); ws.append(w); res['js'].append(tv(proj(J.ravel(),N).reshape(T.shape),X))
        res['g2'].append(tv(proj(garrote(T,std,2).ravel(),N).reshape(T.shape),X))
        res['g3'].append(tv(proj(garrote(T,std,3).ravel(),N).reshape(T.shape),X))
    rows.append((names[a][:14],names[b][:14],states[a]*states[b],1-tv(real,rel),1-tv(real,syn),*[1-np.mean(res[k]) for k in res],np.mean(ws)))
df=pd.DataFrame(rows,columns=['a','b','cells','released','synth','sim_raw','sim_ind','sim_js','sim_g2','sim_g3','w'])
pd.set_option('display.width',200); print(df.round(3).sort_values('cells').to_string()); print(df.mean(numeric_only=True).round(3))
