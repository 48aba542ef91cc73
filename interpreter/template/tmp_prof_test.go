package template
import ("testing")
func BenchmarkTmpLoop(b *testing.B){
 e:=newTestEngine()
 for i:=0;i<b.N;i++{ e.RenderString("{% for i in (1..300) %}{% for j in (1..300) %}{{ i | plus: j }}{% endfor %}{% endfor %}",nil) }
}
